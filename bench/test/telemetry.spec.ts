import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateDocs } from '../src/report';
import {
  TELEMETRY_CONFIGS,
  median,
  roundOrder,
  summarize,
  medianInterval,
  verdicts,
  type Summary,
  type TelemetryReport,
  type TelemetryRun,
} from '../src/telemetry';
import { TELEMETRY_MARKERS, formatChange, telemetryMarkdown, telemetryText } from '../src/telemetry-report';
import type { Metric, ScenarioName } from '../src/types';

const perCpu = (value: number | null): Metric => ({
  key: 'perCpu',
  label: 'msgs per broker CPU-s',
  better: 'higher',
  format: 'count',
  value,
});

function run(
  scenario: ScenarioName,
  configuration: string,
  round: number,
  metrics: Metric[],
  extra: Partial<TelemetryRun> = {},
): TelemetryRun {
  return {
    scenario,
    broker: 'fluxmq',
    configuration,
    round,
    sent: 100,
    expected: 100,
    delivered: 100,
    wallSeconds: 1,
    brokerCpuSeconds: 1,
    end: 'done',
    metrics,
    load: {},
    deliveryRatio: 1,
    generatorCpuSeconds: 0.5,
    otherCpuSeconds: 0,
    stealSeconds: 0,
    disturbed: false,
    ...extra,
  };
}

const spans = (
  exported: number,
  queueFull: number,
  failed: number,
  shed: number,
): Record<string, number> => ({
  fluxmq_trace_spans_exported_total: exported,
  'fluxmq_trace_spans_dropped_total{reason="queue_full"}': queueFull,
  'fluxmq_trace_spans_dropped_total{reason="export_failed"}': failed,
  fluxmq_traces_shed_total: shed,
});

/** Fan-in per-CPU-second figures by configuration and round (3 rounds), made up so the medians are easy. */
const FAN_IN: Record<string, number[]> = {
  off: [1000, 1100, 900],
  metrics: [1000, 990, 980],
  'tracing-0': [960, 970, 1200],
  'sample-1': [900, 910, 880], // median 900: exactly −10%, which misses "under 10%"
  'sample-100': [700, 600, 650], // median 650: −35%, missed
};

function report(): TelemetryReport {
  const runs: TelemetryRun[] = [];
  for (let round = 1; round <= 3; round++) {
    for (const config of TELEMETRY_CONFIGS) {
      const tracing = config.env['FLUXMQ_TELEMETRY_TRACING_ENABLED'] === 'true';
      const exported = config.key === 'tracing-0' ? 0 : round * 100;
      runs.push(
        run('fan-in', config.key, round, [perCpu(FAN_IN[config.key][round - 1])], {
          ...(tracing && { brokerCounters: spans(exported, round, 1, 10 * round) }),
          // One disturbed round of 1%, one stalled round of 100%.
          disturbed: config.key === 'sample-1' && round === 2,
          end: config.key === 'sample-100' && round === 3 ? 'stalled' : 'done',
        }),
      );
      const latency = config.key === 'off' ? 0.2 : 0.3;
      runs.push(
        run('qos1-latency', config.key, round, [
          { key: 'p99', label: 'p99 ms', better: 'lower', format: 'decimal', value: latency * round },
          { key: 'brokerCpu', label: 'broker CPU-s', better: 'lower', format: 'decimal', value: 0.5 },
        ]),
      );
    }
  }
  // A fourth fan-out round for two configurations only: even counts take the mean of the middle two.
  for (const [config, values] of [
    ['off', [2000, 1000, 3000, 4000]],
    ['sample-1', [1950, 2100, 1900, 2000]],
  ] as const) {
    values.forEach((v, i) => runs.push(run('fan-out', config, i + 1, [perCpu(v)])));
  }
  return {
    mode: 'telemetry',
    machine: {
      date: '2026-11-26T10:00:00.000Z',
      cpuModel: 'Test CPU',
      cores: 2,
      memoryMb: 1024,
      os: 'Linux 6',
      node: 'v20.0.0',
      mosquitto: '2.0.11',
      aedes: '1.2.0',
      fluxmq: '0.1.0 (abc1234)',
      openFilesLimit: 1024,
    },
    options: {
      quick: false,
      scale: 4,
      rounds: 3,
      scrapeSeconds: 5,
      scenarios: ['fan-in', 'fan-out', 'qos1-latency'],
      extraEnv: {},
    },
    configurations: TELEMETRY_CONFIGS.map((c) => ({ ...c })),
    runs,
  };
}

const find = (all: Summary[], scenario: string, metric: string, config: string): Summary => {
  const found = all.find(
    (s) => s.scenario === scenario && s.metric.key === metric && s.config.key === config,
  );
  if (!found) throw new Error(`no ${scenario} ${metric} ${config}`);
  return found;
};

describe('telemetry summary', () => {
  const summaries = summarize(report());

  it('takes the median of the rounds, the middle two averaged for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(find(summaries, 'fan-in', 'perCpu', 'off')).toMatchObject({ median: 1000, min: 900, max: 1100 });
    expect(find(summaries, 'fan-in', 'perCpu', 'tracing-0')).toMatchObject({
      median: 970,
      min: 960,
      max: 1200,
    });
    expect(find(summaries, 'fan-out', 'perCpu', 'off')).toMatchObject({ median: 2500, min: 1000, max: 4000 });
    expect(find(summaries, 'fan-out', 'perCpu', 'sample-1').median).toBe(1975);
  });

  it('compares each median with off and with metrics on', () => {
    const sample1 = find(summaries, 'fan-in', 'perCpu', 'sample-1');
    expect(sample1.vsOff).toBeCloseTo(-0.1, 10);
    expect(sample1.vsMetrics).toBeCloseTo(900 / 990 - 1, 10);
    expect(find(summaries, 'fan-in', 'perCpu', 'off').vsOff).toBe(0);
    expect(find(summaries, 'fan-out', 'perCpu', 'sample-1').vsOff).toBeCloseTo(1975 / 2500 - 1, 10);
    // No metrics-on rounds in fan-out: nothing to compare with.
    expect(find(summaries, 'fan-out', 'perCpu', 'sample-1').vsMetrics).toBeNull();
    // Latency: a higher p99 is a positive change, the cost.
    expect(find(summaries, 'qos1-latency', 'p99', 'sample-100').vsOff).toBeCloseTo(0.5, 10);
    expect(find(summaries, 'qos1-latency', 'brokerCpu', 'sample-1').vsOff).toBe(0);
  });

  it('orders rows by scenario, metric and configuration', () => {
    expect(summaries.map((s) => `${s.scenario}/${s.metric.key}`)).toEqual([
      ...Array(5).fill('fan-in/perCpu'),
      ...Array(5).fill('fan-out/perCpu'),
      ...Array(5).fill('qos1-latency/p99'),
      ...Array(5).fill('qos1-latency/brokerCpu'),
    ]);
    expect(summaries.slice(0, 5).map((s) => s.config.key)).toEqual(TELEMETRY_CONFIGS.map((c) => c.key));
  });

  it('gives the span counters’ medians for the tracing configurations only, dropped summed over reasons', () => {
    expect(find(summaries, 'fan-in', 'perCpu', 'off').spans).toBeUndefined();
    expect(find(summaries, 'fan-in', 'perCpu', 'metrics').spans).toBeUndefined();
    expect(find(summaries, 'fan-in', 'perCpu', 'tracing-0').spans).toEqual({
      exported: 0,
      dropped: 3,
      shed: 20,
    });
    expect(find(summaries, 'fan-in', 'perCpu', 'sample-1').spans).toEqual({
      exported: 200,
      dropped: 3,
      shed: 20,
    });
    // Tracing on, but no counters were read (they could not be fetched): shown as unknown, not as 0.
    expect(find(summaries, 'fan-out', 'perCpu', 'sample-1').spans).toEqual({
      exported: null,
      dropped: null,
      shed: null,
    });
  });

  it('marks disturbed and partial results, and missing rounds as partial', () => {
    expect(find(summaries, 'fan-in', 'perCpu', 'sample-1')).toMatchObject({
      disturbed: true,
      partial: false,
    });
    expect(find(summaries, 'fan-in', 'perCpu', 'sample-100')).toMatchObject({
      disturbed: false,
      partial: true,
    });
    expect(find(summaries, 'fan-in', 'perCpu', 'off')).toMatchObject({ disturbed: false, partial: false });
    expect(find(summaries, 'fan-out', 'perCpu', 'metrics')).toMatchObject({ median: null, partial: true });
  });

  it('leaves a failed round out of the median and marks the result partial', () => {
    const r = report();
    r.runs = r.runs.map((x) =>
      x.scenario === 'fan-in' && x.configuration === 'off' && x.round === 2
        ? { ...x, metrics: [], error: 'FluxMQ exited during startup' }
        : x,
    );
    expect(find(summarize(r), 'fan-in', 'perCpu', 'off')).toMatchObject({ median: 950, partial: true });
  });

  it('judges nothing on 3 rounds: too few for an interval around the median of the rounds’ changes', () => {
    expect(verdicts(report())).toEqual([
      // Rounds' changes −10%, −17.3%, −2.2%: their median is −10%.
      {
        scenario: 'fan-in',
        config: 'sample-1',
        maxCost: 0.1,
        change: expect.closeTo(-0.1, 10),
        interval: null,
        outcome: 'not shown',
      },
      {
        scenario: 'fan-in',
        config: 'sample-100',
        maxCost: 0.35,
        change: expect.closeTo(-0.3, 10),
        interval: null,
        outcome: 'not shown',
      },
      {
        scenario: 'fan-out',
        config: 'sample-1',
        maxCost: 0.1,
        change: expect.closeTo(-0.025, 10),
        interval: null,
        outcome: 'not shown',
      },
      {
        scenario: 'fan-out',
        config: 'sample-100',
        maxCost: 0.35,
        change: null,
        interval: null,
        outcome: 'not measured',
      },
    ]);
  });

  it('calls a target met or missed only when the whole interval is on one side of it', () => {
    // 10 rounds: off at 1000, each configuration at 1000 × (1 + that round's change).
    const changes: Record<string, number[]> = {
      'fan-in/sample-1': [-0.02, -0.06, -0.03, -0.09, -0.04, -0.05, -0.01, -0.2, -0.03, -0.05],
      'fan-in/sample-100': [-0.4, -0.45, -0.38, -0.5, -0.1, -0.42, -0.41, -0.39, -0.44, -0.37],
      'fan-out/sample-1': [-0.05, -0.15, -0.08, -0.12, -0.07, -0.11, -0.06, -0.13, -0.09, -0.1],
      'fan-out/sample-100': [-0.1, -0.12, -0.11, -0.09, -0.1, -0.13, -0.1, -0.08, -0.11, -0.1],
    };
    const r = report();
    r.options.rounds = 10;
    r.runs = [];
    for (const [key, values] of Object.entries(changes)) {
      const [scenario, config] = key.split('/') as [ScenarioName, string];
      values.forEach((c, i) => {
        r.runs.push(run(scenario, config, i + 1, [perCpu(1000 * (1 + c))]));
        if (config === 'sample-1') r.runs.push(run(scenario, 'off', i + 1, [perCpu(1000)]));
      });
    }
    const judged = verdicts(r);
    const outcome = (scenario: string, config: string) =>
      judged.find((v) => v.scenario === scenario && v.config === config);
    // Sorted fan-in 1%: the 2nd smallest (−9%) to the 2nd largest (−2%) holds the median with 97.9%.
    expect(outcome('fan-in', 'sample-1')).toMatchObject({
      change: expect.closeTo(-0.045, 10),
      interval: { low: expect.closeTo(-0.09, 10), high: expect.closeTo(-0.02, 10) },
      outcome: 'met',
    });
    // One round at −10% does not save 100% sampling from −37% at best.
    expect(outcome('fan-in', 'sample-100')).toMatchObject({ outcome: 'missed' });
    // −6% to −13%: the median (−9.5%) is within the target, but the machine cannot show it is.
    expect(outcome('fan-out', 'sample-1')).toMatchObject({
      change: expect.closeTo(-0.095, 10),
      outcome: 'not shown',
    });
    expect(outcome('fan-out', 'sample-100')).toMatchObject({ outcome: 'met' });
  });
});

describe('roundOrder', () => {
  it('starts each round one configuration further, so over as many rounds each runs once in every place', () => {
    const keys = ['off', 'metrics', 'tracing-0', 'sample-1', 'sample-100'];
    const rounds = [1, 2, 3, 4, 5].map((round) => roundOrder(keys, round));
    expect(rounds[0]).toEqual(keys);
    expect(rounds[1]).toEqual(['metrics', 'tracing-0', 'sample-1', 'sample-100', 'off']);
    for (let place = 0; place < keys.length; place++) {
      expect(new Set(rounds.map((order) => order[place]))).toEqual(new Set(keys));
    }
    expect(roundOrder(keys, 6)).toEqual(keys);
    expect(roundOrder(['off', 'sample-1'], 4)).toEqual(['sample-1', 'off']);
  });
});

describe('medianInterval', () => {
  it('runs from the k-th smallest to the k-th largest value, for the largest k covering at least 90%', () => {
    const ten = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6];
    expect(medianInterval(ten)).toEqual({ low: 2, high: 9, coverage: expect.closeTo(1 - 22 / 1024, 10) });
    expect(medianInterval([5, 1, 4, 2, 3])).toEqual({
      low: 1,
      high: 5,
      coverage: expect.closeTo(30 / 32, 10),
    });
    expect(medianInterval([1, 2, 3, 4, 5, 6, 7])).toMatchObject({ low: 1, high: 7 });
    expect(medianInterval([1, 2, 3, 4, 5, 6, 7], 0.8)).toMatchObject({ low: 2, high: 6 });
  });

  it('has none when even the smallest and largest value cover too little', () => {
    expect(medianInterval([1, 2, 3, 4])).toBeNull();
    expect(medianInterval([])).toBeNull();
  });
});

describe('telemetry report', () => {
  const titles = { 'fan-in': 'QoS 0 fan-in 20→1', 'fan-out': 'QoS 0 fan-out 1→200', 'qos1-latency': 'QoS 1' };

  it('writes changes as signed percentages', () => {
    expect(formatChange(-0.0956)).toBe('−9.6%');
    expect(formatChange(0.5)).toBe('+50.0%');
    expect(formatChange(0)).toBe('+0.0%');
    expect(formatChange(null)).toBe('–');
  });

  it('prints medians with their marks, ranges, changes, span counters and the targets’ verdict', () => {
    const text = telemetryText(report(), titles);
    const row = (config: string): string =>
      text.split('\n').find((l) => l.startsWith('QoS 0 fan-in') && l.includes(config)) ?? '';
    expect(row('metrics + 1% sampling')).toMatch(/900† +880–910 +−10\.0% +−9\.1% +200 +3 +20$/);
    expect(row('metrics + 100% sampling')).toMatch(/650\* +600–700 +−35\.0% /);
    expect(row('metrics off, tracing off')).toMatch(/1,000 +900–1,100$/);
    expect(text).toContain(
      'QoS 0 fan-in 20→1: 1% −10.0% (not shown), 100% −30.0% (not shown); ' +
        'QoS 0 fan-out 1→200: 1% −2.5% (not shown), 100% – (not measured).',
    );
  });

  it('renders Markdown that replaces the text between the telemetry markers of the docs', async () => {
    const markdown = telemetryMarkdown(report(), titles);
    expect(markdown).toMatch(
      /^Measured 2026-11-26 on Test CPU .*FluxMQ 0\.1\.0 \(abc1234\): 3 rounds, .*loads ×4, \/metrics scraped every 5 s with metrics on\./,
    );
    expect(markdown).toContain(
      '| QoS 0 fan-in 20→1 | msgs per broker CPU-s ↑ | metrics + 1% sampling | 900† |',
    );
    const dir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-docs-'));
    try {
      const file = join(dir, 'benchmarks.md');
      const { start, end } = TELEMETRY_MARKERS;
      writeFileSync(file, `# Page\n\n${start}\n\npending\n\n${end}\n\nAnalysis stays.\n`);
      expect(await updateDocs(file, markdown, TELEMETRY_MARKERS)).toBe(true);
      const page = readFileSync(file, 'utf8');
      expect(page).not.toContain('pending');
      expect(page).toContain('Analysis stays.');
      expect(page).toMatch(
        /\| QoS 0 fan-in 20→1 +\| msgs per broker CPU-s ↑ +\| metrics \+ 1% sampling +\| +900† \|/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
