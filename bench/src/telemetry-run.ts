import { launchers } from './brokers';
import { benchFluxmqEnv } from './brokers/fluxmq';
import type { Options } from './cli';
import { runWithRetries } from './runner';
import { scenarios } from './scenarios';
import {
  hasMetrics,
  roundOrder,
  TELEMETRY_CONFIGS,
  type TelemetryReport,
  type TelemetryRun,
} from './telemetry';
import type { MachineInfo } from './types';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * FluxMQ in each telemetry configuration, a fresh broker per run, interleaved round by round (round 1: all
 * scenarios in all configurations, round 2: the same...), so whatever drifts on the machine meanwhile (other
 * work, thermal state, the page cache) hits every configuration alike instead of one of them. Each round
 * starts one configuration further along, so over the rounds every configuration runs as often first as
 * last, and no configuration gains or loses from its place in the round.
 */
export async function runTelemetry(
  options: Options,
  machine: MachineInfo,
  maxConnections: number,
): Promise<TelemetryReport> {
  const fluxmq = launchers.fluxmq;
  const reason = fluxmq.unavailable();
  if (reason) throw new Error(`--telemetry needs FluxMQ: ${reason}`);
  const extraEnv = benchFluxmqEnv();
  const overridden = Object.keys(extraEnv).filter((key) => TELEMETRY_CONFIGS.some((c) => key in c.env));
  if (overridden.length > 0) {
    log(`BENCH_FLUXMQ_ENV: ${overridden.join(', ')} left to the configurations, which set them`);
  }
  const configs = TELEMETRY_CONFIGS.filter((c) => options.configurations.includes(c.key));
  const runs: TelemetryRun[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    log(`Round ${round}/${options.rounds}`);
    for (const name of options.scenarios) {
      for (const config of roundOrder(configs, round)) {
        const variant = {
          label: config.label,
          env: config.env,
          scrapeSeconds: hasMetrics(config) ? options.scrapeSeconds : 0,
        };
        const result = await runWithRetries(fluxmq, scenarios[name], options, maxConnections, variant);
        runs.push({ ...result, configuration: config.key, round });
      }
    }
  }
  return {
    mode: 'telemetry',
    machine,
    options: {
      quick: options.quick,
      scale: options.scale,
      rounds: options.rounds,
      warmUp: options.warmUp,
      scrapeSeconds: options.scrapeSeconds,
      scenarios: options.scenarios,
      extraEnv,
    },
    configurations: configs.map((c) => ({ ...c })),
    runs,
  };
}
