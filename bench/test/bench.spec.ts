import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamplingPhasesReport } from '../src/sampling-phases';
import { TELEMETRY_CONFIGS, type TelemetryReport } from '../src/telemetry';
import type { BenchReport, BrokerName } from '../src/types';
import { SCENARIOS } from '../src/types';

// Runs the compiled benchmark exactly as `npm run bench -- --quick` does, in its own process, so the
// real broker launchers, /proc readings and cleanup are what is tested.
const bench = resolve(__dirname, '..');
const tsc = resolve(bench, '../node_modules/typescript/bin/tsc');
const fluxmqBuilt = existsSync(resolve(bench, '../apps/broker/dist/main.js'));
const brokers: BrokerName[] = fluxmqBuilt ? ['fluxmq', 'aedes'] : ['aedes'];
const QUICK_RUN_TIMEOUT_MS = 150_000;

beforeAll(() => {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: bench, stdio: 'pipe' });
});

describe('bench --quick', () => {
  let dir: string;
  let report: BenchReport;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-test-'));
    const out = join(dir, 'results.json');
    execFileSync(
      process.execPath,
      ['dist/run.js', '--quick', '--retries', '0', '--brokers', brokers.join(','), '--out', out],
      {
        cwd: bench,
        stdio: 'pipe',
        // Generous: on a 2-core CI machine it shares the cores with every other project's tests. It takes
        // ~23 s alone (mostly broker start-ups); the whole test run plus two CPU burners took it past 80 s.
        timeout: QUICK_RUN_TIMEOUT_MS,
      },
    );
    report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  }, QUICK_RUN_TIMEOUT_MS + 10_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the machine it ran on', () => {
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.machine.aedes).toMatch(/^1\./);
  });

  for (const broker of brokers) {
    for (const scenario of SCENARIOS) {
      it(`${broker} ${scenario}: completes with every message delivered and positive numbers`, () => {
        const result = report.results.find((r) => r.broker === broker && r.scenario === scenario);
        expect(result, `${broker} ${scenario} missing`).toBeDefined();
        if (!result) return;
        expect(result.error).toBeUndefined();
        expect(result.end).toBe('done');
        expect(result.sent).toBeGreaterThan(0);
        expect(result.delivered).toBe(result.expected);
        expect(result.metrics.length).toBeGreaterThan(0);
        for (const metric of result.metrics) {
          expect(metric.value, `${broker} ${scenario} ${metric.label}`).toBeGreaterThan(0);
        }
      });
    }
  }
});

describe.runIf(fluxmqBuilt)('bench --telemetry --quick', () => {
  let dir: string;
  let out: string;
  let report: TelemetryReport;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-telemetry-'));
    out = join(dir, 'telemetry.json');
    // Fan-in only, to keep the suite short on 2 cores: the configurations are what is tested, and fan-out
    // runs them the same way. The counters are read right after the load: with the exporter's default
    // 5 s between partial batches, the few spans of a 1% quick run would still be waiting. Each broker is
    // warmed up by the same load first, whose spans must not count as the measured run's. /metrics is
    // scraped far more often than a Prometheus server would, so that even a quick run sees scrapes.
    execFileSync(
      process.execPath,
      [
        'dist/run.js',
        '--telemetry',
        '--quick',
        '--rounds',
        '1',
        '--scenarios',
        'fan-in',
        '--retries',
        '0',
        '--warm-up',
        '1',
        '--scrape',
        '0.02',
      ].concat(['--out', out]),
      {
        cwd: bench,
        stdio: 'pipe',
        timeout: 60000,
        env: { ...process.env, BENCH_FLUXMQ_ENV: 'OTEL_BSP_SCHEDULE_DELAY=100' },
      },
    );
    report = JSON.parse(readFileSync(out, 'utf8')) as TelemetryReport;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ran every configuration once, each delivering every message', () => {
    expect(report.mode).toBe('telemetry');
    expect(report.options.extraEnv).toEqual({ OTEL_BSP_SCHEDULE_DELAY: '100' });
    expect(report.options.warmUp).toBe(1);
    expect(report.runs.map((r) => r.configuration)).toEqual(TELEMETRY_CONFIGS.map((c) => c.key));
    for (const run of report.runs) {
      expect(run.error, run.configuration).toBeUndefined();
      expect(run.end, run.configuration).toBe('done');
      expect(run.sent, run.configuration).toBeGreaterThan(0);
      expect(run.delivered, run.configuration).toBe(run.expected);
      expect(run.metrics.find((m) => m.key === 'perCpu')?.value, run.configuration).toBeGreaterThan(0);
    }
  });

  it('exported spans at 1% and 100%, none with tracing on at 0%, and read no counters without tracing', () => {
    const counters = (key: string) => report.runs.find((r) => r.configuration === key)?.brokerCounters;
    const exported = (key: string) => counters(key)?.['fluxmq_trace_spans_exported_total'];
    expect(exported('sample-1')).toBeGreaterThan(0);
    expect(exported('sample-100')).toBeGreaterThan(0);
    // At 100% each message of the measured run is traced (publish, route, deliver) or shed, and the warm-up's
    // as many again are not counted; a little room for the clients' connect and disconnect spans.
    const full = report.runs.find((r) => r.configuration === 'sample-100')!;
    const shed = counters('sample-100')?.['fluxmq_traces_shed_total'] ?? 0;
    expect(shed + exported('sample-100')! / 3).toBeLessThanOrEqual(full.sent * 1.05);
    expect(counters('tracing-0')).toEqual({
      fluxmq_trace_spans_exported_total: 0,
      'fluxmq_trace_spans_dropped_total{reason="queue_full"}': 0,
      'fluxmq_trace_spans_dropped_total{reason="export_failed"}': 0,
      fluxmq_traces_shed_total: 0,
    });
    expect(counters('off')).toBeUndefined();
    expect(counters('metrics')).toBeUndefined();
  });

  it('scraped /metrics during the load of every configuration with metrics on, and of no other', () => {
    expect(report.options.scrapeSeconds).toBe(0.02);
    for (const run of report.runs) {
      if (run.configuration === 'off') expect(run.metricsScrapes, run.configuration).toBeUndefined();
      else expect(run.metricsScrapes, run.configuration).toBeGreaterThan(0);
    }
  });

  it('re-renders the saved report with --from', () => {
    const text = execFileSync(process.execPath, ['dist/run.js', '--from', out], {
      cwd: bench,
      encoding: 'utf8',
    });
    for (const config of TELEMETRY_CONFIGS) expect(text).toContain(config.label);
    expect(text).toContain('Targets (product issue)');
  });
});

describe.runIf(fluxmqBuilt)('bench --sampling-phases --quick', () => {
  let dir: string;
  let out: string;
  let report: SamplingPhasesReport;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-phases-'));
    out = join(dir, 'phases.json');
    // 0% and 100%: spans exported after the run can only come from phases whose ratio the API switched to.
    execFileSync(
      process.execPath,
      ['dist/run.js', '--sampling-phases', '3', '--ratios', '0,1', '--quick', '--out', out],
      {
        cwd: bench,
        stdio: 'pipe',
        timeout: 60000,
        env: { ...process.env, BENCH_FLUXMQ_ENV: 'OTEL_BSP_SCHEDULE_DELAY=100' },
      },
    );
    report = JSON.parse(readFileSync(out, 'utf8')) as SamplingPhasesReport;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('alternated the ratios phase by phase under a load that kept moving, and paired every measured phase', () => {
    expect(report.mode).toBe('sampling-phases');
    expect(report.phases.map((p) => p.ratio)).toEqual([0, 1, 0, 1, 0, 1, 0]);
    for (const p of report.phases) {
      expect(p.messages).toBeGreaterThan(0);
      expect(p.perCpu).toBeGreaterThan(0);
    }
    expect(report.changes).toHaveLength(3);
    expect(report.change).toBe([...report.changes].sort((a, b) => a - b)[1]);
  });

  it('switched sampling in the running broker: a broker started at 0% exported spans', () => {
    expect(report.counters['fluxmq_trace_spans_exported_total']).toBeGreaterThan(0);
  });

  it('re-renders the saved report with --from', () => {
    const text = execFileSync(process.execPath, ['dist/run.js', '--from', out], {
      cwd: bench,
      encoding: 'utf8',
    });
    expect(text).toContain('sampling switched between 0% and 100%');
    expect(text).toContain('100% against 0%');
  });
});
