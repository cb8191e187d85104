import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FluxConfigInput } from '@fluxmq/config';
import type { BrokerServer } from '@fluxmq/server';
import { onCleanup } from './cleanup';
import { spawnMosquitto } from './mosquitto-broker';
import { TARGET, type Target } from './target';

export const HOST = '127.0.0.1';

export interface TestBroker {
  readonly target: Target;
  readonly host: string;
  readonly tcpPort: number;
  /** 0 when the WebSocket listener is disabled. */
  readonly wsPort: number;
  /** mqtt://127.0.0.1:PORT */
  readonly tcpUrl: string;
  /** ws://127.0.0.1:PORT/mqtt */
  readonly wsUrl: string;
  /**
   * The in-process engine (FluxMQ mode only; undefined against Mosquitto), for tests that check what the
   * broker holds: clients, sessions, subscriptions, drop counters.
   */
  readonly engine: BrokerServer['broker'] | undefined;
  /** Idempotent; also run automatically after each test. */
  close(): Promise<void>;
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlain(prev) && isPlain(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

/** `over` laid on `base`, objects merged key by key at any depth (arrays and values replace). */
export function mergeConfig(base: FluxConfigInput, over: FluxConfigInput): FluxConfigInput {
  return deepMerge(base as Plain, over as Plain) as FluxConfigInput;
}

/** What every test broker gets unless a test overrides it: loopback, free ports, no $SYS, quiet logs. */
function baseConfig(): FluxConfigInput {
  return {
    log: {
      level: (process.env['FLUXMQ_E2E_LOG'] as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'error',
    },
    listeners: {
      tcp: { host: HOST, port: 0 },
      ws: { host: HOST, port: 0, path: '/mqtt' },
    },
    // Should the server ever start the admin HTTP server itself: 8080 would collide between forks.
    http: { host: HOST, port: 0 },
    sys: { enabled: false },
    // Tests that need it point it at a temporary file: a shared default would leak state between tests.
    persistence: { enabled: false },
  };
}

async function startFluxmq(overrides: FluxConfigInput): Promise<{
  tcp: number;
  ws: number;
  engine: BrokerServer['broker'];
  close(): Promise<void>;
}> {
  // Imported lazily: mosquitto mode must work without loading (or even compiling) the engine.
  const { loadConfig } = await import('@fluxmq/config');
  const { startBrokerServer } = await import('@fluxmq/server');
  const merged = mergeConfig(mergeConfig(baseConfig(), persistedByEnv()), overrides);
  const server = await startBrokerServer(loadConfig({ env: {}, overrides: merged }));
  return {
    tcp: server.ports['tcp'] ?? 0,
    ws: server.ports['ws'] ?? 0,
    engine: server.broker,
    close: () => server.close(),
  };
}

/**
 * FLUXMQ_E2E_PERSISTENCE=commit|interval runs every test with SQLite persistence on (a new database per
 * broker): the whole protocol suite then also checks that storing state changes no behaviour.
 */
function persistedByEnv(): FluxConfigInput {
  const durability = process.env['FLUXMQ_E2E_PERSISTENCE'];
  if (durability !== 'commit' && durability !== 'interval') return {};
  const dir = mkdtempSync(join(tmpdir(), 'fluxmq-e2e-db-'));
  onCleanup(`database ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return { persistence: { enabled: true, durability, path: join(dir, 'fluxmq.db') } };
}

/**
 * Starts a broker for one test: FluxMQ in-process by default, or a Mosquitto child process when
 * FLUXMQ_E2E_TARGET=mosquitto. Overrides use FluxMQ's configuration schema in both modes.
 */
export async function startBroker(overrides: FluxConfigInput = {}): Promise<TestBroker> {
  const running =
    TARGET === 'mosquitto'
      ? await spawnMosquitto(overrides).then((m) => ({
          tcp: m.tcpPort,
          ws: m.wsPort,
          engine: undefined,
          close: m.close,
        }))
      : await startFluxmq(overrides);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= running.close();
    return closing;
  };
  const unregister = onCleanup(`broker :${running.tcp}`, close);
  const wsPath = overrides.listeners?.ws?.path ?? '/mqtt';
  return {
    target: TARGET,
    host: HOST,
    tcpPort: running.tcp,
    wsPort: running.ws,
    tcpUrl: `mqtt://${HOST}:${running.tcp}`,
    wsUrl: `ws://${HOST}:${running.ws}${wsPath}`,
    engine: running.engine,
    close: async () => {
      unregister();
      await close();
    },
  };
}
