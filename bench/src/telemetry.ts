import type { MachineInfo, ScenarioName, ScenarioResult } from './types';

// The cost-of-telemetry mode (--telemetry): FluxMQ alone, in five telemetry configurations interleaved round
// by round, reported as medians. This file holds what it runs and how the rounds are summarised; run.ts
// runs it, telemetry-report.ts prints it.

export interface TelemetryConfig {
  key: string;
  label: string;
  /** FLUXMQ_* settings of this configuration; they take precedence over BENCH_FLUXMQ_ENV. */
  env: Record<string, string>;
}

const METRICS = 'FLUXMQ_TELEMETRY_METRICS_ENABLED';
const TRACING = 'FLUXMQ_TELEMETRY_TRACING_ENABLED';
const RATIO = 'FLUXMQ_TELEMETRY_TRACING_SAMPLE_RATIO';

// Every configuration states both switches, so neither a changed default nor BENCH_FLUXMQ_ENV shifts them.
export const TELEMETRY_CONFIGS: readonly TelemetryConfig[] = [
  { key: 'off', label: 'metrics off, tracing off', env: { [METRICS]: 'false', [TRACING]: 'false' } },
  { key: 'metrics', label: 'metrics on (the default)', env: { [METRICS]: 'true', [TRACING]: 'false' } },
  // What having tracing on costs when no message is sampled: the sampling decision and the exporter's setup.
  {
    key: 'tracing-0',
    label: 'metrics + tracing at 0%',
    env: { [METRICS]: 'true', [TRACING]: 'true', [RATIO]: '0' },
  },
  {
    key: 'sample-1',
    label: 'metrics + 1% sampling',
    env: { [METRICS]: 'true', [TRACING]: 'true', [RATIO]: '0.01' },
  },
  {
    key: 'sample-100',
    label: 'metrics + 100% sampling',
    env: { [METRICS]: 'true', [TRACING]: 'true', [RATIO]: '1' },
  },
];

/**
 * The figures compared per scenario. Every scenario that moves messages can be traced; idle-memory moves
 * none, so tracing has nothing to cost there and the mode refuses it.
 */
export const TELEMETRY_METRICS: Partial<Record<ScenarioName, readonly string[]>> = {
  'fan-in': ['perCpu'],
  'fan-out': ['perCpu'],
  // At a fixed message rate the cost shows as CPU-seconds spent, and as latency.
  'qos1-latency': ['p99', 'brokerCpu'],
  'qos2-throughput': ['perCpu'],
  'persistent-qos1': ['perCpu'],
};

export const DEFAULT_TELEMETRY_SCENARIOS: readonly ScenarioName[] = ['fan-in', 'fan-out'];

/** From the product issue: the share of throughput (per broker CPU-second) a configuration may cost. */
export const TARGETS = [
  { config: 'sample-1', maxCost: 0.1 },
  { config: 'sample-100', maxCost: 0.35 },
] as const;

export interface TelemetryRun extends ScenarioResult {
  configuration: string;
  /** 1-based. */
  round: number;
}

export interface TelemetryReport {
  mode: 'telemetry';
  machine: MachineInfo;
  options: {
    quick: boolean;
    scale: number;
    rounds: number;
    scenarios: ScenarioName[];
    /** BENCH_FLUXMQ_ENV, added to every configuration. */
    extraEnv: Record<string, string>;
  };
  configurations: TelemetryConfig[];
  runs: TelemetryRun[];
}

export function isTelemetryReport(report: object): report is TelemetryReport {
  return (report as { mode?: unknown }).mode === 'telemetry';
}

export interface SpanCounts {
  exported: number | null;
  /** Queue full or export failed. */
  dropped: number | null;
  shed: number | null;
}

export interface Summary {
  scenario: ScenarioName;
  metric: { key: string; label: string; better: 'higher' | 'lower'; format: 'count' | 'percent' | 'decimal' };
  config: TelemetryConfig;
  /** The rounds' values that could be computed, in round order. */
  values: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  /** Relative change of the median: (median − baseline) / baseline. */
  vsOff: number | null;
  vsMetrics: number | null;
  /** A round stalled, timed out or failed. */
  partial: boolean;
  /** Other processes disturbed a round. */
  disturbed: boolean;
  /** Medians of the broker's span counters; absent for configurations without tracing. */
  spans?: SpanCounts;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function change(value: number | null, base: number | null): number | null {
  return value === null || base === null || base === 0 ? null : (value - base) / base;
}

/** A counter summed over its labels (the dropped counter has one per reason); null if the broker had none. */
function counter(run: TelemetryRun, name: string): number | null {
  const entries = Object.entries(run.brokerCounters ?? {}).filter(
    ([key]) => key === name || key.startsWith(`${name}{`),
  );
  return entries.length ? entries.reduce((sum, [, value]) => sum + value, 0) : null;
}

function spanMedians(runs: TelemetryRun[]): SpanCounts {
  const of = (name: string): number | null =>
    median(runs.map((r) => counter(r, name)).filter((v): v is number => v !== null));
  return {
    exported: of('fluxmq_trace_spans_exported_total'),
    dropped: of('fluxmq_trace_spans_dropped_total'),
    shed: of('fluxmq_traces_shed_total'),
  };
}

/** Per scenario, metric and configuration (in that order): the medians and changes the tables show. */
export function summarize(report: TelemetryReport): Summary[] {
  const out: Summary[] = [];
  for (const scenario of report.options.scenarios) {
    for (const key of TELEMETRY_METRICS[scenario] ?? []) {
      const rows = report.configurations.map((config) => {
        const runs = report.runs.filter((r) => r.scenario === scenario && r.configuration === config.key);
        const metrics = runs.map((r) => r.metrics.find((m) => m.key === key));
        const values = metrics
          .map((m) => m?.value)
          .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        const tracing = config.env['FLUXMQ_TELEMETRY_TRACING_ENABLED'] === 'true';
        return {
          scenario,
          metric: metrics.find((m) => m !== undefined) ?? {
            key,
            label: key,
            better: 'higher',
            format: 'count',
          },
          config,
          values,
          median: median(values),
          min: values.length ? Math.min(...values) : null,
          max: values.length ? Math.max(...values) : null,
          vsOff: null,
          vsMetrics: null,
          partial: runs.length < report.options.rounds || runs.some((r) => r.end !== 'done' || r.error),
          disturbed: runs.some((r) => r.disturbed),
          ...(tracing && { spans: spanMedians(runs) }),
        } satisfies Summary;
      });
      const base = (configKey: string): number | null =>
        rows.find((r) => r.config.key === configKey)?.median ?? null;
      for (const row of rows) {
        out.push({
          ...row,
          vsOff: change(row.median, base('off')),
          vsMetrics: change(row.median, base('metrics')),
        });
      }
    }
  }
  return out;
}

export interface Verdict {
  scenario: ScenarioName;
  config: string;
  maxCost: number;
  /** The median's change against off, null when it could not be computed. */
  change: number | null;
  met: boolean;
}

/** The targets are about throughput, so they are judged on the per-CPU-second figures only. */
export function verdicts(summaries: Summary[]): Verdict[] {
  const out: Verdict[] = [];
  for (const s of summaries) {
    const target = TARGETS.find((t) => t.config === s.config.key);
    if (!target || s.metric.key !== 'perCpu') continue;
    const met = s.vsOff !== null && s.vsOff > -target.maxCost;
    out.push({ scenario: s.scenario, config: s.config.key, maxCost: target.maxCost, change: s.vsOff, met });
  }
  return out;
}
