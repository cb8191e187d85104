import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli';
import { loadFor, type ScenarioContext } from '../src/scenarios/scenario';

describe('bench options', () => {
  it('takes --scale as a whole number of at least 1, and defaults to 1', () => {
    expect(parseArgs([])).toMatchObject({ scale: 1 });
    expect(parseArgs(['--scale', '4'])).toMatchObject({ scale: 4 });
    expect(parseArgs(['--scale=2'])).toMatchObject({ scale: 2 });
    for (const bad of ['0', '1.5', 'x']) expect(() => parseArgs(['--scale', bad])).toThrow(/--scale/);
  });

  it('scales the amounts a scenario names, of the quick or the full load', () => {
    const loads = {
      full: { messages: 1000, maxSeconds: 10, batch: 16 },
      quick: { messages: 10, maxSeconds: 1, batch: 16 },
    };
    const ctx = (quick: boolean, scale: number) => ({ quick, scale }) as ScenarioContext;
    expect(loadFor(ctx(false, 3), loads, ['messages', 'maxSeconds'])).toEqual({
      messages: 3000,
      maxSeconds: 30,
      batch: 16,
    });
    expect(loadFor(ctx(true, 2), loads, ['messages'])).toEqual({ messages: 20, maxSeconds: 1, batch: 16 });
    expect(loads.full.messages).toBe(1000); // the scenario's own table is left alone
  });
});

describe('bench --telemetry options', () => {
  it('measures FluxMQ in fan-in and fan-out, 5 rounds, into its own JSON file by default', () => {
    const options = parseArgs(['--telemetry']);
    expect(options).toMatchObject({
      telemetry: true,
      rounds: 5,
      brokers: ['fluxmq'],
      scenarios: ['fan-in', 'fan-out'],
    });
    expect(options !== 'help' && options.out).toMatch(/bench\/results\/telemetry\.json$/);
    expect(parseArgs([])).toMatchObject({ telemetry: false, rounds: 5 });
  });

  it('takes rounds, scale, quick, retries, markdown, an output file and scenarios that move messages', () => {
    const options = parseArgs([
      '--telemetry',
      '--rounds=3',
      '--scale',
      '4',
      '--quick',
      '--retries',
      '1',
      '--markdown',
      '--out',
      '/tmp/t.json',
      '--scenarios',
      'qos1-latency,fan-in',
    ]);
    expect(options).toMatchObject({
      rounds: 3,
      scale: 4,
      quick: true,
      retries: 1,
      markdown: true,
      out: '/tmp/t.json',
      scenarios: ['fan-in', 'qos1-latency'],
    });
    expect(parseArgs(['--telemetry', '--brokers', 'fluxmq'])).toMatchObject({ brokers: ['fluxmq'] });
  });

  it('warms each broker up at the scale given, none by default, and only in this mode', () => {
    expect(parseArgs(['--telemetry'])).toMatchObject({ warmUp: 0 });
    expect(parseArgs(['--telemetry', '--warm-up', '1', '--scale', '4'])).toMatchObject({
      warmUp: 1,
      scale: 4,
    });
    for (const bad of ['-1', '0.5', 'x']) {
      expect(() => parseArgs(['--telemetry', '--warm-up', bad])).toThrow(/--warm-up needs a whole number/);
    }
    expect(() => parseArgs(['--warm-up', '1'])).toThrow(/--warm-up applies to --telemetry only/);
    expect(() => parseArgs(['--sampling-phases', '3', '--warm-up', '1'])).toThrow(
      /--warm-up does not go with --sampling-phases/,
    );
  });

  it('scrapes /metrics every 5 s by default, as often as given, and only in this mode', () => {
    expect(parseArgs(['--telemetry'])).toMatchObject({ scrapeSeconds: 5 });
    expect(parseArgs(['--telemetry', '--scrape', '0.5'])).toMatchObject({ scrapeSeconds: 0.5 });
    expect(parseArgs(['--telemetry', '--scrape', '0'])).toMatchObject({ scrapeSeconds: 0 });
    for (const bad of ['-1', 'x', 'Infinity']) {
      expect(() => parseArgs(['--telemetry', '--scrape', bad])).toThrow(/--scrape needs a number of seconds/);
    }
    expect(() => parseArgs(['--scrape', '5'])).toThrow(/--scrape applies to --telemetry only/);
    expect(() => parseArgs(['--sampling-phases', '3', '--scrape', '5'])).toThrow(
      /--scrape does not go with --sampling-phases/,
    );
  });

  it('runs the configurations given, always with off, in the order of the tables', () => {
    expect(parseArgs(['--telemetry'])).toMatchObject({
      configurations: ['off', 'metrics', 'tracing-0', 'sample-1', 'sample-100'],
    });
    expect(parseArgs(['--telemetry', '--configurations', 'sample-100,sample-1'])).toMatchObject({
      configurations: ['off', 'sample-1', 'sample-100'],
    });
    expect(parseArgs(['--telemetry', '--configurations=off,metrics'])).toMatchObject({
      configurations: ['off', 'metrics'],
    });
  });

  it('refuses what it cannot measure', () => {
    expect(() => parseArgs(['--telemetry', '--configurations', 'sample-5'])).toThrow(
      /--configurations: unknown "sample-5"/,
    );
    expect(() => parseArgs(['--configurations', 'sample-1'])).toThrow(
      /--configurations applies to --telemetry only/,
    );
    for (const bad of ['0', '1.5', 'x']) {
      expect(() => parseArgs(['--telemetry', '--rounds', bad])).toThrow(/--rounds needs/);
    }
    expect(() => parseArgs(['--rounds', '3'])).toThrow(/--rounds applies to --telemetry only/);
    expect(() => parseArgs(['--telemetry', '--brokers', 'aedes'])).toThrow(/FluxMQ only/);
    expect(() => parseArgs(['--telemetry', '--brokers', 'fluxmq,aedes'])).toThrow(/FluxMQ only/);
    expect(() => parseArgs(['--telemetry', '--scenarios', 'fan-in,idle-memory'])).toThrow(
      /idle-memory moves no messages/,
    );
  });
});

describe('bench --sampling-phases options', () => {
  it('switches between 0% and 1% by default, for the number of phases given, into its own JSON file', () => {
    const options = parseArgs(['--sampling-phases', '12']);
    expect(options).toMatchObject({
      samplingPhases: true,
      phases: 12,
      ratios: [0, 0.01],
      brokers: ['fluxmq'],
      scenarios: ['fan-in'],
    });
    expect(options !== 'help' && options.out).toMatch(/bench\/results\/sampling-phases\.json$/);
    expect(parseArgs(['--sampling-phases', '5', '--ratios', '0.01,1', '--scale', '2'])).toMatchObject({
      phases: 5,
      ratios: [0.01, 1],
      scale: 2,
    });
  });

  it('refuses phases, ratios and modes it cannot run', () => {
    for (const bad of ['0', '2.5', 'x']) {
      expect(() => parseArgs(['--sampling-phases', bad])).toThrow(/--sampling-phases needs/);
    }
    for (const bad of ['0.01', '0,2', '0.5,0.5', '0,x', '0,0.01,1']) {
      expect(() => parseArgs(['--sampling-phases', '3', '--ratios', bad])).toThrow(/--ratios needs/);
    }
    expect(() => parseArgs(['--ratios', '0,0.01'])).toThrow(/--ratios applies to --sampling-phases only/);
    expect(() => parseArgs(['--telemetry', '--ratios', '0,0.01'])).toThrow(/--sampling-phases only/);
    for (const clash of [
      ['--telemetry'],
      ['--brokers', 'fluxmq'],
      ['--scenarios', 'fan-out'],
      ['--rounds', '3'],
      ['--retries', '1'],
      ['--markdown'],
    ]) {
      expect(() => parseArgs(['--sampling-phases', '3', ...clash])).toThrow(
        `${clash[0]} does not go with --sampling-phases`,
      );
    }
  });
});
