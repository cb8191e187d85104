import { launchers } from './brokers';
import type { RunningBroker } from './brokers/launcher';
import type { Options } from './cli';
import { sleep } from './measure';
import { PUBLISH, publishBatch, publishTemplate } from './packets';
import { cpuSeconds } from './proc';
import { ClientPool, RawClient, connectMany } from './raw-client';
import { BATCH, PAYLOAD, PUBLISHERS, WINDOW } from './scenarios/fan-in';
import { change, median, medianInterval, type MedianInterval } from './telemetry';
import { formatChange } from './telemetry-report';
import type { MachineInfo } from './types';

// The sampling mode (--sampling-phases): one FluxMQ with tracing on under a steady fan-in load, its sampling
// ratio switched through the admin API between two values phase after phase. Separate runs of a
// configuration spread by ±8% on a shared machine, as much as the costs measured; neighbouring phases of one
// run share whatever the machine is doing, so each phase of the second ratio, compared with the mean of the
// phases on either side of it, measures the difference with that drift taken out. One broker also means one
// JIT arrangement for both ratios: what a ratio costs by the work it adds, not by how V8 happened to compile
// a process started with it (which the --telemetry mode, a fresh broker per run, includes).

export interface Phase {
  ratio: number;
  messages: number;
  brokerCpuSeconds: number;
  /** Messages per broker CPU-second; null when the phase's CPU reading was zero. */
  perCpu: number | null;
}

export interface SamplingPhasesReport {
  mode: 'sampling-phases';
  machine: MachineInfo;
  options: {
    /** The baseline ratio (phases 1, 3, 5...) and the one measured against it (2, 4, 6...). */
    ratios: [number, number];
    pairs: number;
    phaseSeconds: number;
    warmupSeconds: number;
    quick: boolean;
  };
  phases: Phase[];
  /** Each measured phase's change against the mean of its two baseline neighbours, in order. */
  changes: number[];
  change: number | null;
  interval: MedianInterval | null;
  /** The broker's span counters after the load (exported, dropped, shed). */
  counters: Record<string, number>;
}

export function isSamplingPhasesReport(report: object): report is SamplingPhasesReport {
  return (report as { mode?: string }).mode === 'sampling-phases';
}

/** Baseline, measured, baseline, ...: `pairs` measured phases, each between two baseline ones. */
export function phaseRatios(ratios: [number, number], pairs: number): number[] {
  return Array.from({ length: 2 * pairs + 1 }, (_, i) => ratios[i % 2]);
}

export function pairedChanges(phases: readonly Phase[]): number[] {
  const changes: number[] = [];
  for (let i = 1; i + 1 < phases.length; i += 2) {
    const [before, measured, after] = [phases[i - 1].perCpu, phases[i].perCpu, phases[i + 1].perCpu];
    const base = before !== null && after !== null ? (before + after) / 2 : null;
    const c = change(measured, base);
    if (c !== null) changes.push(c);
  }
  return changes;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export async function runSamplingPhases(
  options: Options,
  machine: MachineInfo,
): Promise<SamplingPhasesReport> {
  const fluxmq = launchers.fluxmq;
  const reason = fluxmq.unavailable();
  if (reason) throw new Error(`--sampling-phases needs FluxMQ: ${reason}`);
  const [baseline] = options.ratios;
  const phaseSeconds = (options.quick ? 0.5 : 2) * options.scale;
  const warmupSeconds = (options.quick ? 1 : 5) * options.scale;
  const broker = await fluxmq.start({
    env: {
      FLUXMQ_TELEMETRY_TRACING_ENABLED: 'true',
      FLUXMQ_TELEMETRY_TRACING_SAMPLE_RATIO: String(baseline),
    },
  });
  const pool = new ClientPool();
  try {
    log(`[FluxMQ sampling phases] broker pid ${broker.pid}; warming up for ${warmupSeconds} s`);
    const load = await startFanIn(broker, pool);
    await sleep(warmupSeconds * 1000);
    const phases: Phase[] = [];
    for (const ratio of phaseRatios(options.ratios, options.phases)) {
      await setSampleRatio(broker, ratio);
      const cpu0 = cpuSeconds(broker.pid);
      const messages0 = load.received();
      await sleep(phaseSeconds * 1000);
      const brokerCpuSeconds = cpuSeconds(broker.pid) - cpu0;
      const messages = load.received() - messages0;
      phases.push({
        ratio,
        messages,
        brokerCpuSeconds,
        perCpu: brokerCpuSeconds > 0 ? messages / brokerCpuSeconds : null,
      });
    }
    load.stop();
    const changes = pairedChanges(phases);
    return {
      mode: 'sampling-phases',
      machine,
      options: {
        ratios: options.ratios,
        pairs: options.phases,
        phaseSeconds,
        warmupSeconds,
        quick: options.quick,
      },
      phases,
      changes,
      change: median(changes),
      interval: medianInterval(changes),
      counters: (await broker.counters?.()) ?? {},
    };
  } finally {
    pool.destroyAll();
    await broker.stop();
  }
}

async function setSampleRatio(broker: RunningBroker, sampleRatio: number): Promise<void> {
  const res = await fetch(`${broker.adminUrl}/api/telemetry/sampling`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sampleRatio, alwaysSampleClients: [], alwaysSampleTopics: [] }),
  });
  if (!res.ok) throw new Error(`setting the sample ratio to ${sampleRatio}: HTTP ${res.status}`);
}

/** The fan-in scenario's load, without an end: publishers refill the window as the subscriber drains it. */
async function startFanIn(
  broker: RunningBroker,
  pool: ClientPool,
): Promise<{ received(): number; stop(): void }> {
  const { host, port } = broker;
  const subscriber = await RawClient.connect({ host, port, clientId: 'bench-phases-sub' }, pool);
  await subscriber.subscribe('bench/in/+', 0);
  const publishers = await connectMany(
    PUBLISHERS,
    PUBLISHERS,
    (i) => ({ host, port, clientId: `bench-phases-pub-${i}` }),
    pool,
  );
  const batches = publishers.map((_, i) => publishBatch(publishTemplate(`bench/in/${i}`, PAYLOAD, 0), BATCH));
  let sent = 0;
  let received = 0;
  let next = 0;
  let running = true;
  const fill = (): void => {
    while (running && sent - received + BATCH <= WINDOW) {
      publishers[next].write(batches[next]);
      next = (next + 1) % PUBLISHERS;
      sent += BATCH;
    }
  };
  subscriber.onPacket = (type) => {
    if (type !== PUBLISH) return;
    received++;
    if (received % BATCH === 0) fill();
  };
  fill();
  return {
    received: () => received,
    stop: () => void (running = false),
  };
}

export function samplingPhasesText(report: SamplingPhasesReport): string {
  const [a, b] = report.options.ratios.map(percent);
  const perCpu = (ratio: number): string => {
    const values = report.phases.filter((p) => p.ratio === ratio).map((p) => p.perCpu);
    const m = median(values.filter((v): v is number => v !== null));
    return m === null ? 'n/a' : Math.round(m).toLocaleString('en-US');
  };
  const { interval } = report;
  return [
    `QoS 0 fan-in 20→1, one broker, sampling switched between ${a} and ${b} every ${report.options.phaseSeconds} s ` +
      `(${report.options.pairs} phases at ${b}):`,
    `  msgs per broker CPU-s, median of the phases: ${a} ${perCpu(report.options.ratios[0])}, ${b} ${perCpu(report.options.ratios[1])}`,
    `  ${b} against ${a}: ${formatChange(report.change)} (median of ${report.changes.length} paired changes; ` +
      (interval
        ? `90% interval ${formatChange(interval.low)} to ${formatChange(interval.high)})`
        : 'too few phases for an interval)'),
  ].join('\n');
}

function percent(ratio: number): string {
  return `${+(ratio * 100).toFixed(3)}%`;
}
