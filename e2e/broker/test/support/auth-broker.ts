import type { FluxConfigInput } from '@fluxmq/config';
import type { BrokerServer } from '@fluxmq/server';
import { HOST, mergeConfig, type TestBroker } from './broker';
import { onCleanup } from './cleanup';

// A FluxMQ broker with authentication on, started in-process through @fluxmq/server so that tests can
// reach what only FluxMQ has: `server.auth` (users and rules replaced at run time), its log and its
// metrics. Auth specs import this file directly; they are FluxMQ-only.

export type LogLine = { level: string; msg: string } & Record<string, unknown>;

export interface AuthBroker extends TestBroker {
  readonly server: BrokerServer;
  readonly auth: NonNullable<BrokerServer['auth']>;
  readonly logs: LogLine[];
  /** mqtts://127.0.0.1:PORT when the TLS listener is enabled. */
  readonly tlsUrl: string;
  /** A metric as GET /metrics shows it: the sum of its samples whose labels contain `labels`. */
  metric(name: string, labels?: string): Promise<number>;
}

/** Loopback listeners on free ports, no $SYS, no persistence, `auth.enabled`, then `overrides`. */
export async function startAuthBroker(overrides: FluxConfigInput): Promise<AuthBroker> {
  const { loadConfig } = await import('@fluxmq/config');
  const { startBrokerServer } = await import('@fluxmq/server');
  const base: FluxConfigInput = {
    listeners: { tcp: { host: HOST, port: 0 }, ws: { host: HOST, port: 0 } },
    http: { host: HOST, port: 0 },
    sys: { enabled: false },
    persistence: { enabled: false },
    auth: { enabled: true },
  };
  const config = loadConfig({ env: {}, overrides: mergeConfig(base, overrides) });
  const logs: LogLine[] = [];
  const line =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      logs.push({ ...fields, level, msg });
    };
  const logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const server = await startBrokerServer(config, { logger });
  const unregister = onCleanup('auth broker', () => server.close());
  const { tcp, ws, tls } = server.ports;
  return {
    target: 'fluxmq',
    host: HOST,
    tcpPort: tcp,
    wsPort: ws ?? 0,
    tcpUrl: `mqtt://${HOST}:${tcp}`,
    wsUrl: `ws://${HOST}:${ws}/mqtt`,
    tlsUrl: `mqtts://${HOST}:${tls}`,
    engine: server.broker,
    server,
    auth: server.auth!,
    logs,
    async metric(name, labels = '') {
      const text = await server.metrics!.prometheus.metrics();
      let sum = 0;
      for (const sample of text.split('\n')) {
        const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(sample);
        if (match && match[1] === name && (match[2] ?? '').includes(labels)) sum += Number(match[3]);
      }
      return sum;
    },
    async close() {
      unregister();
      await server.close();
    },
  };
}
