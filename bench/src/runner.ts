import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerLauncher, RunningBroker } from './brokers';
import type { Options } from './cli';
import { watchMachine } from './measure';
import { ClientPool } from './raw-client';
import type { Scenario, ScenarioContext } from './scenarios';
import { startScraper, type Scraper } from './scraper';
import { ratio } from './scenarios/throughput';
import type { ScenarioResult } from './types';

/** A broker start other than the plain one: the telemetry mode's configurations. */
export interface Variant {
  /** Added to the log lines' tag, e.g. "1% sampling". */
  label: string;
  env: Record<string, string>;
  /** Scrape the broker's /metrics this often while it runs (seconds; absent or 0: never). */
  scrapeSeconds?: number;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs a scenario, and again while other processes disturb it; the last attempt is kept either way. */
export async function runWithRetries(
  launcher: BrokerLauncher,
  scenario: Scenario,
  options: Options,
  maxConnections: number,
  variant?: Variant,
): Promise<ScenarioResult> {
  let result = await runScenario(launcher, scenario, options, maxConnections, variant);
  // On a shared machine (CI runners, a laptop) other work comes and goes; a rerun usually misses it.
  for (let retry = 1; retry <= options.retries && result.disturbed; retry++) {
    log(`${tagOf(launcher, scenario, variant)} rerunning (${retry}/${options.retries})`);
    result = await runScenario(launcher, scenario, options, maxConnections, variant);
  }
  return result;
}

function tagOf(launcher: BrokerLauncher, scenario: Scenario, variant?: Variant): string {
  return `[${launcher.label} ${scenario.name}${variant ? `, ${variant.label}` : ''}]`;
}

/**
 * One scenario against a freshly started broker: no scenario inherits another's sessions, heap
 * growth or fragmentation, which matters most for the memory reading.
 */
async function runScenario(
  launcher: BrokerLauncher,
  scenario: Scenario,
  options: Options,
  maxConnections: number,
  variant?: Variant,
): Promise<ScenarioResult> {
  const tag = tagOf(launcher, scenario, variant);
  const timeoutMs = (options.quick ? 20_000 : 60_000) * options.scale;
  const pool = new ClientPool();
  let broker: RunningBroker | undefined;
  let scraper: Scraper | undefined;
  let generatorCpuSeconds = 0;
  try {
    broker = await launcher.start({ env: variant?.env });
    log(`${tag} broker pid ${broker.pid} on port ${broker.port}`);
    // From the start, warm-up included: a watched broker is scraped whatever it is doing.
    if (variant?.scrapeSeconds && broker.adminUrl) {
      scraper = startScraper(`${broker.adminUrl}/metrics`, variant.scrapeSeconds, (message) =>
        log(`${tag} warning: ${message}`),
      );
    }
    const countersBefore =
      options.warmUp > 0 ? await warmUp(broker, scenario, options, maxConnections, tag) : {};
    const scrapesBefore = scraper?.scrapes ?? 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const machine = watchMachine(broker.pid);
    const run = scenario.run(
      contextOf(broker, options, options.scale, pool, timeoutMs, maxConnections, `${tag} `),
    );
    // The scenario honours its deadline during the load; this also bounds a hang while connecting.
    const outcome = await withTimeout(run, timeoutMs + 5000, `${scenario.name} exceeded ${timeoutMs} ms`);
    await scraper?.stop();
    const metricsScrapes = scraper && scraper.scrapes - scrapesBefore;
    const cpu = process.cpuUsage(cpuBefore);
    generatorCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const elapsed = (performance.now() - started) / 1000;
    const { otherCpuSeconds, stealSeconds, busiest } = machine.stop(generatorCpuSeconds);
    if (generatorCpuSeconds / elapsed > 0.9) {
      log(`${tag} warning: load generator was ${Math.round((generatorCpuSeconds / elapsed) * 100)}% busy`);
    }
    const disturbed = otherCpuSeconds > Math.max(0.5, 0.1 * elapsed) || stealSeconds > 0.1 * elapsed;
    if (disturbed) {
      log(
        `${tag} warning: other processes used ${otherCpuSeconds.toFixed(2)} CPU-s and the hypervisor ` +
          `stole ${stealSeconds.toFixed(2)} s during this scenario (busiest: ${busiest.join(', ') || 'gone'}); ` +
          'numbers may be disturbed',
      );
    }
    if (outcome.end !== 'done') log(`${tag} warning: ended by ${outcome.end}; counts are partial`);
    const brokerCounters = await readCounters(broker, tag);
    return {
      scenario: scenario.name,
      broker: launcher.name,
      ...outcome,
      deliveryRatio: ratio(outcome.delivered, outcome.expected),
      generatorCpuSeconds,
      otherCpuSeconds,
      stealSeconds,
      disturbed,
      ...(metricsScrapes !== undefined && { metricsScrapes }),
      ...(brokerCounters && { brokerCounters: since(countersBefore, brokerCounters) }),
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${tag} failed: ${message}`);
    return {
      scenario: scenario.name,
      broker: launcher.name,
      sent: 0,
      expected: 0,
      delivered: 0,
      wallSeconds: 0,
      brokerCpuSeconds: 0,
      end: 'timeout',
      metrics: [],
      load: {},
      deliveryRatio: 0,
      generatorCpuSeconds,
      otherCpuSeconds: 0,
      stealSeconds: 0,
      disturbed: false,
      error: message,
    };
  } finally {
    pool.destroyAll();
    await scraper?.stop();
    await broker?.stop();
  }
}

/**
 * The scenario at the warm-up's scale on the broker about to be measured, its clients closed after: V8
 * compiles the paths the load takes, the exporter connects and grows its buffers, and none of that one-off
 * work lands in the measured run. Returns the broker's counters as it leaves them, to subtract.
 */
async function warmUp(
  broker: RunningBroker,
  scenario: Scenario,
  options: Options,
  maxConnections: number,
  tag: string,
): Promise<Record<string, number>> {
  const timeoutMs = (options.quick ? 20_000 : 60_000) * options.warmUp;
  const pool = new ClientPool();
  try {
    log(`${tag} warming up (--scale ${options.warmUp})`);
    const run = scenario.run(
      contextOf(broker, options, options.warmUp, pool, timeoutMs, maxConnections, `${tag} warm-up: `),
    );
    await withTimeout(run, timeoutMs + 5000, `${scenario.name} warm-up exceeded ${timeoutMs} ms`);
  } finally {
    pool.destroyAll();
  }
  await sleep(500); // the broker closes the warm-up's sessions before the measured run reuses their ids
  return (await readCounters(broker, tag)) ?? {};
}

function contextOf(
  broker: RunningBroker,
  options: Options,
  scale: number,
  pool: ClientPool,
  timeoutMs: number,
  maxConnections: number,
  logPrefix: string,
): ScenarioContext {
  return {
    host: broker.host,
    port: broker.port,
    pid: broker.pid,
    quick: options.quick,
    scale,
    pool,
    deadline: Date.now() + timeoutMs,
    maxConnections,
    log: (message) => log(`${logPrefix}${message}`),
  };
}

async function readCounters(broker: RunningBroker, tag: string): Promise<Record<string, number> | undefined> {
  return broker.counters?.().catch((err: unknown) => {
    log(`${tag} warning: could not read the broker's counters: ${err instanceof Error ? err.message : err}`);
    return undefined;
  });
}

/** What the counters added since `before` (a warm-up's spans are not the measured run's). */
function since(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
