import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect } from 'vitest';
import {
  LOCAL_PORTS,
  fluxOnly,
  onCleanup,
  sleep,
  startApp,
  uniqueId,
  waitUntil,
  withTimeout,
  type AppProcess,
} from './support';
import { freePorts } from './support/mosquitto-broker';

// The broker process is killed with SIGKILL in the middle of a stream of QoS 1 and QoS 2 messages and
// started again on the same database. Clients reconnect by themselves (MQTT.js, persistent sessions) and
// resend what they had in flight, as real devices do. Every message is counted.

const it = fluxOnly('kills the FluxMQ process');

const MESSAGES = 400;
const IN_FLIGHT = 20;
const session = { protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } } as const;

function reconnecting(url: string, options: IClientOptions): MqttClient {
  const client = connect(url, { reconnectPeriod: 100, connectTimeout: 2000, ...options });
  client.on('error', () => undefined); // refused connections while the broker is down are expected
  onCleanup(`mqtt client ${String(options.clientId)}`, () => void client.end(true));
  return client;
}

function connected(client: MqttClient): Promise<void> {
  return client.connected ? Promise.resolve() : new Promise((r) => client.once('connect', () => r()));
}

/** Counts each payload received, by QoS of the subscription's topic. */
function tally(client: MqttClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.on('message', (topic, payload) => {
    const key = `${topic}:${payload.toString()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return counts;
}

describe('kill -9', () => {
  it('delivers every acknowledged QoS 1 message and every QoS 2 message exactly once, and keeps retained ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxmq-crash-'));
    onCleanup(`database ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const [port] = await freePorts(1);
    const env = {
      ...LOCAL_PORTS,
      FLUXMQ_LISTENERS_TCP_PORT: String(port),
      FLUXMQ_LISTENERS_WS_ENABLED: 'false',
      FLUXMQ_PERSISTENCE_ENABLED: 'true',
      FLUXMQ_PERSISTENCE_PATH: join(dir, 'fluxmq.db'),
      FLUXMQ_SYS_ENABLED: 'false',
    };
    const url = `mqtt://127.0.0.1:${port}`;
    let app: AppProcess = await startApp([], env);
    onCleanup('broker process', () => void app.child.kill('SIGKILL'));

    // One subscriber stays connected through the crash, one is offline and collects afterwards.
    const offlineId = uniqueId('offline');
    const offline = reconnecting(url, { ...session, clientId: offlineId });
    await connected(offline);
    await offline.subscribeAsync('crash/#', { qos: 2 });
    await offline.endAsync();
    const online = reconnecting(url, { ...session, clientId: uniqueId('online') });
    const onlineCounts = tally(online);
    await connected(online);
    await online.subscribeAsync('crash/#', { qos: 2 });

    const publisher = reconnecting(url, { ...session, clientId: uniqueId('pub') });
    await connected(publisher);
    await publisher.publishAsync('state/crash', 'kept', { qos: 1, retain: true });
    const acked = { q1: new Set<number>(), q2: new Set<number>() };
    let killed = false;
    for (let i = 0; i < MESSAGES; i += IN_FLIGHT) {
      const batch = [];
      for (let n = i; n < i + IN_FLIGHT; n++) {
        const qos = n % 2 === 0 ? 1 : 2;
        const done = publisher.publishAsync(`crash/q${qos}`, String(n), { qos });
        batch.push(done.then(() => acked[qos === 1 ? 'q1' : 'q2'].add(n)));
        if (!killed && n === MESSAGES / 2) {
          // Mid-batch: some of it acknowledged, some in flight, some not yet sent.
          killed = true;
          app.child.kill('SIGKILL');
          await new Promise((r) => app.child.once('exit', r));
          app = await startApp([], env);
        }
      }
      await withTimeout(Promise.all(batch), 20000, `acknowledgements of messages ${i}..${i + IN_FLIGHT - 1}`);
    }
    expect(acked.q1.size + acked.q2.size).toBe(MESSAGES);

    const back = reconnecting(url, { ...session, clientId: offlineId });
    const offlineCounts = tally(back);
    await connected(back);
    for (const [who, counts] of [
      ['offline subscriber', offlineCounts],
      ['online subscriber', onlineCounts],
    ] as const) {
      await waitUntil(() => counts.size === MESSAGES, 15000, `${who} to receive all ${MESSAGES} messages`);
    }
    await sleep(500);
    for (const counts of [offlineCounts, onlineCounts]) {
      for (const n of acked.q1) expect(counts.get(`crash/q1:${n}`)).toBeGreaterThanOrEqual(1);
      for (const n of acked.q2) expect(counts.get(`crash/q2:${n}`), `QoS 2 message ${n}`).toBe(1);
    }
    const late = reconnecting(url, { protocolVersion: 5, clientId: uniqueId('late') });
    await connected(late);
    const retained = new Promise<string>((r) => late.once('message', (_t, payload) => r(payload.toString())));
    await late.subscribeAsync('state/crash', { qos: 1 });
    expect(await withTimeout(retained, 3000, 'the retained message')).toBe('kept');
    await withTimeout(app.stop(), 5000, 'graceful stop');
  }, 60000);
});
