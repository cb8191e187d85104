import { describe, expect, it } from 'vitest';
import {
  connectClient,
  sleep,
  startBroker,
  v311,
  waitUntil,
  type TestBroker,
  type TestClient,
} from './support';

const SYS = { sys: { enabled: true, intervalSeconds: 1 } } as const;

const TOPICS = [
  '$SYS/broker/uptime',
  '$SYS/broker/clients/connected',
  '$SYS/broker/messages/received',
  '$SYS/broker/bytes/received',
  '$SYS/broker/subscriptions/count',
  '$SYS/broker/retained messages/count',
  '$SYS/broker/load/messages/received/1min',
];

/** The numeric value of the latest message on `topic` (Mosquitto formats uptime as "N seconds"). */
function latest(watcher: TestClient, topic: string): number | undefined {
  const messages = watcher.messagesOn(topic);
  const last = messages[messages.length - 1];
  if (!last) return undefined;
  const match = /^(\d+(?:\.\d+)?)(?: seconds)?$/.exec(last.text);
  if (!match) throw new Error(`${topic} is not numeric: ${JSON.stringify(last.text)}`);
  return Number(match[1]);
}

async function sysWatcher(broker: TestBroker): Promise<TestClient> {
  const watcher = await connectClient(broker, v311);
  await watcher.subscribe('$SYS/broker/#', { qos: 0 });
  return watcher;
}

/** Waits until the latest value of `topic` satisfies `predicate`. */
async function waitForValue(
  watcher: TestClient,
  topic: string,
  predicate: (value: number) => boolean,
  what: string,
  timeoutMs = 4000,
): Promise<number> {
  try {
    await waitUntil(
      () => {
        const value = latest(watcher, topic);
        return value !== undefined && predicate(value);
      },
      timeoutMs,
      what,
    );
  } catch {
    throw new Error(`${topic}: expected ${what}, latest value ${String(latest(watcher, topic))}`);
  }
  return latest(watcher, topic) ?? NaN;
}

describe('$SYS topics', () => {
  it('publishes the Mosquitto-named statistics under $SYS/broker/ with numeric values', async () => {
    const broker = await startBroker(SYS);
    const watcher = await sysWatcher(broker);
    await waitUntil(
      () => TOPICS.every((t) => watcher.messagesOn(t).length > 0),
      3500,
      `all of ${TOPICS.join(', ')}`,
    ).catch(() => {
      const missing = TOPICS.filter((t) => watcher.messagesOn(t).length === 0);
      throw new Error(`missing $SYS topics: ${missing.join(', ')}`);
    });
    for (const topic of TOPICS) expect(latest(watcher, topic)).toBeGreaterThanOrEqual(0);
  });

  it('updates $SYS/broker/uptime every sys.intervalSeconds, increasing', async () => {
    const broker = await startBroker(SYS);
    const watcher = await sysWatcher(broker);
    const first = await waitForValue(watcher, '$SYS/broker/uptime', () => true, 'a value');
    const later = await waitForValue(watcher, '$SYS/broker/uptime', (v) => v >= first + 1, 'a later uptime');
    expect(later).toBeGreaterThan(first);
  });

  it('reflects connections in $SYS/broker/clients/connected', async () => {
    const broker = await startBroker(SYS);
    const watcher = await sysWatcher(broker);
    const topic = '$SYS/broker/clients/connected';
    await waitForValue(watcher, topic, (v) => v === 1, 'only the watcher (1)');
    const others = await Promise.all([1, 2, 3].map(() => connectClient(broker, v311)));
    await waitForValue(watcher, topic, (v) => v === 4, '4 after three more connected');
    await Promise.all(others.map((c) => c.disconnect()));
    await waitForValue(watcher, topic, (v) => v === 1, 'back to 1 after they left');
  });

  it('counts received messages and bytes in $SYS/broker/messages/received and bytes/received', async () => {
    const broker = await startBroker(SYS);
    const watcher = await sysWatcher(broker);
    const messages = await waitForValue(watcher, '$SYS/broker/messages/received', () => true, 'a value');
    const bytes = await waitForValue(watcher, '$SYS/broker/bytes/received', () => true, 'a value');
    const publisher = await connectClient(broker, v311);
    for (let i = 0; i < 5; i++) await publisher.publish('stats/t', Buffer.alloc(1000), { qos: 1 });
    await waitForValue(
      watcher,
      '$SYS/broker/messages/received',
      (v) => v >= messages + 5,
      `>= ${messages + 5}`,
    );
    await waitForValue(watcher, '$SYS/broker/bytes/received', (v) => v >= bytes + 5000, `>= ${bytes + 5000}`);
  });

  it('counts subscriptions in $SYS/broker/subscriptions/count', async () => {
    const broker = await startBroker(SYS);
    const watcher = await sysWatcher(broker);
    const topic = '$SYS/broker/subscriptions/count';
    const before = await waitForValue(watcher, topic, (v) => v >= 1, 'at least the watcher subscription');
    const other = await connectClient(broker, v311);
    await other.subscribe(['sub/a', 'sub/b/#'], { qos: 1 });
    await waitForValue(watcher, topic, (v) => v === before + 2, `${before + 2}`);
    await other.unsubscribe('sub/a');
    await waitForValue(watcher, topic, (v) => v === before + 1, `${before + 1} after an unsubscribe`);
  });

  it('counts retained messages in $SYS/broker/retained messages/count', async () => {
    const broker = await startBroker(SYS);
    const watcher = await sysWatcher(broker);
    const topic = '$SYS/broker/retained messages/count';
    // Brokers retain their own $SYS topics, and count them; some appear only once there is traffic. Warm
    // up, then let two update intervals pass so the baseline is stable.
    const publisher = await connectClient(broker, v311);
    await publisher.publish('warm/up', 'x', { qos: 1 });
    await sleep(2200);
    const before = await waitForValue(watcher, topic, () => true, 'a value');
    await publisher.publish('keep/a', 'a', { qos: 1, retain: true });
    await publisher.publish('keep/b', 'b', { qos: 1, retain: true });
    await waitForValue(watcher, topic, (v) => v === before + 2, `${before + 2} after two retained`);
    await publisher.publish('keep/a', '', { qos: 1, retain: true });
    await waitForValue(watcher, topic, (v) => v === before + 1, `${before + 1} after clearing one`);
  });

  it('publishes nothing under $SYS when sys.enabled is false', async () => {
    const broker = await startBroker({ sys: { enabled: false } });
    const watcher = await connectClient(broker, v311);
    await watcher.subscribe('$SYS/#', { qos: 0 });
    await sleep(1500);
    expect(watcher.messages.map((m) => m.topic)).toEqual([]);
  });
});
