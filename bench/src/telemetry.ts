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

/** Whether a configuration has metrics on, and so a /metrics that a Prometheus server would scrape. */
export function hasMetrics(config: TelemetryConfig): boolean {
  return config.env[METRICS] === 'true';
}

/** The configurations in the order round `round` (1-based) runs them: rotated by one per round. */
export function roundOrder<T>(configs: readonly T[], round: number): T[] {
  const shift = (round - 1) % configs.length;
  return [...configs.slice(shift), ...configs.slice(0, shift)];
}

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
    /** The scale of the load each broker ran before its measured one (`--warm-up`); absent or 0: none. */
    warmUp?: number;
    /** How often /metrics was scraped during runs with metrics on (`--scrape`); absent or 0: never. */
    scrapeSeconds?: number;
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

/** The relative change of `value` from `base`; null when either is missing. */
export function change(value: number | null, base: number | null): number | null {
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

/** Where the median of some values lies, judged from their order alone (see `medianInterval`). */
export interface MedianInterval {
  low: number;
  high: number;
  /** The probability that the interval holds the true median. */
  coverage: number;
}

/** The least coverage an interval must have before a target is called met or missed. */
export const INTERVAL_COVERAGE = 0.9;

/**
 * A distribution-free interval for the median of `values`: from the k-th smallest to the k-th largest,
 * for the largest k whose coverage is at least `coverage`. Each value falls below the true median with
 * probability ½, so the interval misses it only when fewer than k do, or fewer than k lie above:
 * coverage = 1 − 2·P(Binomial(n, ½) < k). Null when even the smallest and largest value cover less
 * (fewer than 5 values for 90%).
 */
export function medianInterval(
  values: readonly number[],
  coverage = INTERVAL_COVERAGE,
): MedianInterval | null {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  let interval: MedianInterval | null = null;
  let below = 0; // P(Binomial(n, ½) < k)
  let ways = 1; // n choose (k − 1)
  for (let k = 1; 2 * k <= n; k++) {
    below += ways / 2 ** n;
    ways = (ways * (n - k + 1)) / k;
    if (1 - 2 * below < coverage) break;
    interval = { low: sorted[k - 1], high: sorted[n - k], coverage: 1 - 2 * below };
  }
  return interval;
}

/**
 * Each round's change of `config` against off in the same round. Rounds run the configurations one after
 * another, so a round's pair shares whatever the machine was doing then; the spread between rounds is
 * the machine's, and this is what it says about the difference.
 */
function roundChanges(report: TelemetryReport, scenario: ScenarioName, config: string): number[] {
  const value = (configuration: string, round: number): number | null => {
    const run = report.runs.find(
      (r) => r.scenario === scenario && r.configuration === configuration && r.round === round,
    );
    const v = run?.metrics.find((m) => m.key === 'perCpu')?.value;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const changes: number[] = [];
  for (let round = 1; round <= report.options.rounds; round++) {
    const c = change(value(config, round), value('off', round));
    if (c !== null) changes.push(c);
  }
  return changes;
}

export interface Verdict {
  scenario: ScenarioName;
  config: string;
  maxCost: number;
  /** The median of the rounds' changes against off; null when no round has both. */
  change: number | null;
  /** Where that median lies; null with too few rounds to tell. */
  interval: MedianInterval | null;
  /**
   * Met when the whole interval is within the target, missed when all of it is beyond; not shown when it
   * straddles the target, or with too few rounds for an interval.
   */
  outcome: 'met' | 'missed' | 'not shown' | 'not measured';
}

/** The targets are about throughput, so they are judged on the per-CPU-second figures only. */
export function verdicts(report: TelemetryReport): Verdict[] {
  const out: Verdict[] = [];
  for (const scenario of report.options.scenarios) {
    if (!TELEMETRY_METRICS[scenario]?.includes('perCpu')) continue;
    for (const target of TARGETS) {
      const changes = roundChanges(report, scenario, target.config);
      const interval = medianInterval(changes);
      const outcome = changes.length === 0 ? 'not measured' : judge(interval, -target.maxCost);
      out.push({ ...target, scenario, change: median(changes), interval, outcome });
    }
  }
  return out;
}

/** A change worse than `limit` (negative) misses the target; the whole interval must be on one side. */
function judge(interval: MedianInterval | null, limit: number): Verdict['outcome'] {
  if (interval !== null && interval.low > limit) return 'met';
  if (interval !== null && interval.high <= limit) return 'missed';
  return 'not shown';
}
