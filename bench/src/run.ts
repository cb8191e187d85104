import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { killAllBrokers, launchers, type BrokerLauncher, type RunningBroker } from './brokers';
import { USAGE, parseArgs, type Options } from './cli';
import { machineInfo } from './machine';
import { repoRoot } from './paths';
import { watchMachine } from './measure';
import { openFilesLimit } from './proc';
import { ClientPool } from './raw-client';
import { markdownTable, textTable, updateDocs } from './report';
import { scenarios, type Scenario } from './scenarios';
import { ratio } from './scenarios/throughput';
import { BROKERS, type BenchReport, type BrokerStatus, type ScenarioResult } from './types';

/** Sockets the load generator keeps for itself besides the idle connections (stdio, broker probes...). */
const FD_RESERVE = 256;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (options.from) {
    await show(JSON.parse(readFileSync(options.from, 'utf8')) as BenchReport, options.markdown);
    return 0;
  }
  // Brokers are separate processes: whatever ends this one must not leave them running.
  process.on('exit', killAllBrokers);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping brokers`);
      killAllBrokers();
      process.exit(130);
    });
  }
  const report = await runAll(options);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  await show(report, options.markdown);
  log(`Results written to ${options.out}`);
  return report.results.some((r) => r.error) ? 1 : 0;
}

async function runAll(options: Options): Promise<BenchReport> {
  const machine = machineInfo(launchers);
  log(
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, open files ${machine.openFilesLimit}`,
  );
  const maxConnections = openFilesLimit() - FD_RESERVE;

  const statuses: BrokerStatus[] = [];
  const results: ScenarioResult[] = [];
  for (const name of BROKERS) {
    const launcher = launchers[name];
    if (!options.brokers.includes(name)) {
      statuses.push({ name, label: launcher.label, status: 'not-selected' });
      continue;
    }
    const reason = launcher.unavailable();
    if (reason) {
      log(`Skipping ${launcher.label}: ${reason}`);
      statuses.push({ name, label: launcher.label, status: 'skipped', reason });
      continue;
    }
    statuses.push({ name, label: launcher.label, status: 'ran', version: launcher.version() });
    for (const scenarioName of options.scenarios) {
      let result = await runScenario(launcher, scenarios[scenarioName], options, maxConnections);
      // On a shared machine (CI runners, a laptop) other work comes and goes; a rerun usually misses it.
      for (let retry = 1; retry <= options.retries && result.disturbed; retry++) {
        log(`[${launcher.label} ${scenarioName}] rerunning (${retry}/${options.retries})`);
        result = await runScenario(launcher, scenarios[scenarioName], options, maxConnections);
      }
      results.push(result);
    }
  }
  return {
    machine,
    options: {
      quick: options.quick,
      scale: options.scale,
      brokers: options.brokers,
      scenarios: options.scenarios,
    },
    brokers: statuses,
    results,
  };
}

/** Prints the table and, with --markdown, the Markdown version, which also replaces the one in the docs. */
async function show(report: BenchReport, markdown: boolean): Promise<void> {
  const titles = Object.fromEntries(Object.values(scenarios).map((s) => [s.name, s.title]));
  console.log(`\n${textTable(report, titles)}\n`);
  if (!markdown) return;
  const table = markdownTable(report, titles);
  console.log(`${table}\n`);
  const docs = resolve(repoRoot, 'docs/benchmarks.md');
  log((await updateDocs(docs, table)) ? `Updated ${docs}` : `${docs} has no results markers; not updated`);
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
): Promise<ScenarioResult> {
  const tag = `[${launcher.label} ${scenario.name}]`;
  const timeoutMs = (options.quick ? 20_000 : 60_000) * options.scale;
  const pool = new ClientPool();
  let broker: RunningBroker | undefined;
  let generatorCpuSeconds = 0;
  try {
    broker = await launcher.start();
    log(`${tag} broker pid ${broker.pid} on port ${broker.port}`);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const machine = watchMachine(broker.pid);
    const run = scenario.run({
      host: broker.host,
      port: broker.port,
      pid: broker.pid,
      quick: options.quick,
      scale: options.scale,
      pool,
      deadline: Date.now() + timeoutMs,
      maxConnections,
      log: (message) => log(`${tag} ${message}`),
    });
    // The scenario honours its deadline during the load; this also bounds a hang while connecting.
    const outcome = await withTimeout(run, timeoutMs + 5000, `${scenario.name} exceeded ${timeoutMs} ms`);
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
    const brokerCounters = await broker.counters?.().catch((err: unknown) => {
      log(
        `${tag} warning: could not read the broker's counters: ${err instanceof Error ? err.message : err}`,
      );
      return undefined;
    });
    return {
      scenario: scenario.name,
      broker: launcher.name,
      ...outcome,
      deliveryRatio: ratio(outcome.delivered, outcome.expected),
      generatorCpuSeconds,
      otherCpuSeconds,
      stealSeconds,
      disturbed,
      ...(brokerCounters && { brokerCounters }),
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
    await broker?.stop();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

main().then(
  (code) => {
    // Exit explicitly: a scenario cut off by its timeout may leave timers or sockets behind.
    process.exit(code);
  },
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    killAllBrokers();
    process.exit(2);
  },
);
