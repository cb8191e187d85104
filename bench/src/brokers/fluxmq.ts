import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../paths';
import { HOST, launchBroker, type BrokerLauncher } from './launcher';
import { startOtlpSink } from './otlp-sink';

// BENCH_FLUXMQ_MAIN points at another build, e.g. to compare a branch against main.
const main = resolve(repoRoot, process.env['BENCH_FLUXMQ_MAIN'] ?? 'apps/broker/dist/main.js');
// BENCH_FLUXMQ_NODE_ARGS passes flags to the broker's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see
// where its time goes under a load (Node refuses profiling flags in NODE_OPTIONS).
const nodeArgs = (process.env['BENCH_FLUXMQ_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

/**
 * BENCH_FLUXMQ_ENV=KEY=VALUE,KEY=VALUE adds settings to every FluxMQ start, e.g.
 * FLUXMQ_PERSISTENCE_ENABLED=false to compare persistence modes; a start's own settings (the telemetry mode's
 * configurations) take precedence.
 */
export function benchFluxmqEnv(raw = process.env['BENCH_FLUXMQ_ENV'] ?? ''): Record<string, string> {
  return Object.fromEntries(
    raw
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]),
  );
}

let sink: Promise<string> | undefined;

/** The broker's counters of exported, dropped and shed spans, when it traces (read after the load). */
async function traceCounters(httpPort: number): Promise<Record<string, number>> {
  const res = await fetch(`http://${HOST}:${httpPort}/metrics`);
  const counters: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^(fluxmq_traces?_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) counters[m[1]] = Number(m[2]);
  }
  return counters;
}

export const fluxmq: BrokerLauncher = {
  name: 'fluxmq',
  label: 'FluxMQ',
  unavailable: () =>
    existsSync(main) ? null : `${main} not found; build the broker first (npx nx run broker:build)`,
  version() {
    const pkg = JSON.parse(readFileSync(resolve(repoRoot, 'apps/broker/package.json'), 'utf8')) as {
      version: string;
    };
    return `${pkg.version}${commit()}`;
  },
  async start(options = {}) {
    const extra = { ...benchFluxmqEnv(), ...options.env };
    // With tracing on and no endpoint given, spans go to a sink on a thread of this process that accepts and
    // discards them, so the broker pays for exporting as it would in production.
    const tracing = extra['FLUXMQ_TELEMETRY_TRACING_ENABLED'] === 'true';
    if (tracing && !extra['FLUXMQ_TELEMETRY_TRACING_ENDPOINT']) {
      extra['FLUXMQ_TELEMETRY_TRACING_ENDPOINT'] = await (sink ??= startOtlpSink());
    }
    const broker = await launchBroker({
      name: 'FluxMQ',
      // MQTT, and admin HTTP: the counters are read from there, so it must be this broker's too.
      ports: 2,
      plan: ([port, httpPort]) => {
        // A throw-away data directory, so runs neither read nor leave state in the working tree.
        const dataDir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-data-'));
        return {
          command: process.execPath,
          args: [...nodeArgs, main],
          cwd: dataDir,
          cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
          // Queue and inflight limits as in the Mosquitto config, so no broker drops or stalls on a default cap.
          env: {
            FLUXMQ_LISTENERS_TCP_HOST: HOST,
            FLUXMQ_LISTENERS_TCP_PORT: String(port),
            FLUXMQ_LISTENERS_WS_ENABLED: 'false',
            FLUXMQ_HTTP_HOST: HOST,
            FLUXMQ_HTTP_PORT: String(httpPort),
            FLUXMQ_SYS_ENABLED: 'false',
            FLUXMQ_LOG_LEVEL: 'warn',
            FLUXMQ_MQTT_MAX_QUEUED_MESSAGES: '100000',
            FLUXMQ_MQTT_MAX_INFLIGHT: '1000',
            ...extra,
          },
        };
      },
    });
    const httpPort = broker.ports[1];
    // A batch that has not filled goes out after OTEL_BSP_SCHEDULE_DELAY. A short delay given here (the
    // tests' quick runs, over in less than that) is waited out, so the last spans are counted too.
    const delay = Number(extra['OTEL_BSP_SCHEDULE_DELAY']);
    const settleMs = delay > 0 && delay <= 1000 ? delay + 500 : 0;
    const counters = async () => {
      await sleep(settleMs);
      return traceCounters(httpPort);
    };
    const adminUrl = `http://${HOST}:${httpPort}`;
    return tracing ? { ...broker, adminUrl, counters } : { ...broker, adminUrl };
  },
};

/** " (abc1234)" or " (abc1234+changes)": the package version alone does not say which build was measured. */
function commit(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', repoRoot, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const dirty = git('status', '--porcelain', '--', 'apps', 'libs') !== '';
    return ` (${git('rev-parse', '--short', 'HEAD')}${dirty ? '+changes' : ''})`;
  } catch {
    return '';
  }
}
