import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { killAllBrokers, launchers } from './brokers';
import { USAGE, parseArgs, type Options } from './cli';
import { machineInfo } from './machine';
import { repoRoot } from './paths';
import { openFilesLimit } from './proc';
import { DOCS_MARKERS, markdownTable, textTable, updateDocs } from './report';
import { runWithRetries } from './runner';
import {
  isSamplingPhasesReport,
  runSamplingPhases,
  samplingPhasesText,
  type SamplingPhasesReport,
} from './sampling-phases';
import { scenarios } from './scenarios';
import { isTelemetryReport, type TelemetryReport } from './telemetry';
import { TELEMETRY_MARKERS, telemetryMarkdown, telemetryText } from './telemetry-report';
import { runTelemetry } from './telemetry-run';
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
    const saved = JSON.parse(readFileSync(options.from, 'utf8')) as
      BenchReport | TelemetryReport | SamplingPhasesReport;
    if (isSamplingPhasesReport(saved)) console.log(samplingPhasesText(saved));
    else await show(saved, options.markdown);
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
  const machine = machineInfo(launchers);
  log(
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, open files ${machine.openFilesLimit}`,
  );
  if (options.samplingPhases) {
    const phases = await runSamplingPhases(options, machine);
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(phases, null, 2)}\n`);
    console.log(samplingPhasesText(phases));
    log(`Results written to ${options.out}`);
    return 0;
  }
  const maxConnections = openFilesLimit() - FD_RESERVE;
  const report = options.telemetry
    ? await runTelemetry(options, machine, maxConnections)
    : await runAll(options, machine, maxConnections);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  await show(report, options.markdown);
  log(`Results written to ${options.out}`);
  const results: ScenarioResult[] = isTelemetryReport(report) ? report.runs : report.results;
  return results.some((r) => r.error) ? 1 : 0;
}

async function runAll(
  options: Options,
  machine: BenchReport['machine'],
  maxConnections: number,
): Promise<BenchReport> {
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
      const result = await runWithRetries(launcher, scenarios[scenarioName], options, maxConnections);
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
async function show(report: BenchReport | TelemetryReport, markdown: boolean): Promise<void> {
  const titles = Object.fromEntries(Object.values(scenarios).map((s) => [s.name, s.title]));
  const telemetry = isTelemetryReport(report);
  console.log(`\n${telemetry ? telemetryText(report, titles) : textTable(report, titles)}\n`);
  if (!markdown) return;
  const table = telemetry ? telemetryMarkdown(report, titles) : markdownTable(report, titles);
  console.log(`${table}\n`);
  const docs = resolve(repoRoot, 'docs/benchmarks.md');
  const markers = telemetry ? TELEMETRY_MARKERS : DOCS_MARKERS;
  log(
    (await updateDocs(docs, table, markers))
      ? `Updated ${docs}`
      : `${docs} has no ${markers.start} … ${markers.end} markers; not updated`,
  );
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
