import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import type { FluxConfigInput } from '@fluxmq/config';
import {
  QUIET_MS,
  RawClient,
  connectClient,
  fluxOnly,
  onCleanup,
  sleep,
  startBroker,
  uniqueId,
  v311,
  v5,
  waitUntil,
  type TestBroker,
} from './support';

// Graceful restarts of an in-process broker on the same SQLite file: what a persistent session, a retained
// message or a delayed will held before the restart is there after it. (kill -9: crash-restart.spec.ts.)

const it = fluxOnly('restarts FluxMQ on its SQLite database');

function databasePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxmq-persist-'));
  onCleanup(`database ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'fluxmq.db');
}

function persistent(path: string, overrides: FluxConfigInput = {}): Promise<TestBroker> {
  const persistence = { enabled: true, path, durability: 'commit' as const, ...overrides.persistence };
  return startBroker({ ...overrides, persistence });
}

/** Reads the database as another process would: only committed data is visible. */
function committedRows(path: string, sql: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

const expiry = { properties: { sessionExpiryInterval: 3600 } };

describe('persistence across a graceful restart', () => {
  it('delivers QoS 1 and 2 messages queued for an offline session, each once, in order', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const clientId = uniqueId('parked');
    const subscriber = await connectClient(broker, { ...v5, clientId, clean: false, ...expiry });
    await subscriber.subscribe('orders/#', { qos: 2 });
    await subscriber.disconnect();
    const publisher = await connectClient(broker, v5);
    for (let i = 0; i < 50; i++)
      await publisher.publish(`orders/${i}`, `m${i}`, { qos: i % 2 === 0 ? 1 : 2 });
    await publisher.disconnect();
    await broker.close();

    broker = await persistent(path);
    const back = await connectClient(broker, { ...v5, clientId, clean: false, ...expiry });
    expect(back.connack.sessionPresent).toBe(true);
    await back.waitForMessages(50, 5000);
    await sleep(QUIET_MS);
    // In the order they were sent; MQTT.js hands QoS 2 messages to the application later, on PUBREL.
    const publishes = back.received.filter((p) => p.cmd === 'publish');
    expect(publishes.map((p) => p.payload.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(publishes.map((p) => p.qos)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : 2)));
    expect(back.messages).toHaveLength(50);
  });

  it('keeps a 3.1.1 clean-session-0 subscription: new messages arrive without subscribing again', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const clientId = uniqueId('sub311');
    const subscriber = await connectClient(broker, { ...v311, clientId, clean: false });
    await subscriber.subscribe('sensors/+/temp', { qos: 1 });
    await subscriber.disconnect();
    await broker.close();

    broker = await persistent(path);
    const back = await connectClient(broker, { ...v311, clientId, clean: false });
    expect(back.connack.sessionPresent).toBe(true);
    const publisher = await connectClient(broker, v311);
    await publisher.publish('sensors/a/temp', '21.5', { qos: 1 });
    expect((await back.waitForMessage('sensors/a/temp')).text).toBe('21.5');
  });

  it('keeps retained messages with their 5.0 properties, and not those that expired', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const publisher = await connectClient(broker, v5);
    const properties = {
      contentType: 'application/json',
      correlationData: Buffer.from([0, 1, 2, 255]),
      userProperties: { site: 'north', tags: ['a', 'b'] },
      payloadFormatIndicator: true,
    };
    await publisher.publish('config/device', '{"v":1}', { qos: 1, retain: true, properties });
    await publisher.publish('config/short', 'soon gone', {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 1 },
    });
    await publisher.publish('config/cleared', 'x', { qos: 1, retain: true });
    await publisher.publish('config/cleared', '', { qos: 1, retain: true });
    await publisher.disconnect();
    await broker.close();
    await sleep(1100);

    broker = await persistent(path);
    const subscriber = await connectClient(broker, v5);
    await subscriber.subscribe('config/#', { qos: 1 });
    const [msg] = await subscriber.waitForMessages(1);
    await sleep(QUIET_MS);
    expect(subscriber.messages.map((m) => m.topic)).toEqual(['config/device']);
    expect(msg.text).toBe('{"v":1}');
    expect(msg.packet.retain).toBe(true);
    expect(msg.packet.properties).toMatchObject(properties);
    expect(broker.engine!.retained.size).toBe(1);
  });

  it('resends an unacknowledged QoS 1 message with DUP after the restart', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const clientId = uniqueId('noack');
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({ clientId, clean: false });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'jobs', qos: 1 }] });
    await raw.next('suback');
    const publisher = await connectClient(broker, v311);
    await publisher.publish('jobs', 'job-1', { qos: 1 });
    const first = await raw.next('publish');
    expect(first.dup).toBe(false);
    raw.destroy(); // never acknowledged
    await publisher.disconnect();
    await broker.close();

    broker = await persistent(path);
    const again = await RawClient.open(broker, { protocolVersion: 4 });
    expect((await again.connect({ clientId, clean: false })).sessionPresent).toBe(true);
    const resent = await again.next('publish');
    expect(resent).toMatchObject({ topic: 'jobs', messageId: first.messageId, dup: true, qos: 1 });
    expect(resent.payload.toString()).toBe('job-1');
    again.ack(resent);
    await sleep(QUIET_MS);
    expect(committedRows(path, 'SELECT * FROM session_messages')).toEqual([]);
    expect(committedRows(path, 'SELECT * FROM messages')).toEqual([]);
  });

  it('routes a QoS 2 message once when its publisher resends it after the restart (PUBREC was sent)', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const subscriberId = uniqueId('q2sub');
    const subscriber = await connectClient(broker, {
      ...v5,
      clientId: subscriberId,
      clean: false,
      ...expiry,
    });
    await subscriber.subscribe('pay/#', { qos: 2 });
    await subscriber.disconnect();
    const publisherId = uniqueId('q2pub');
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({ clientId: publisherId, clean: false });
    const publish = {
      cmd: 'publish',
      topic: 'pay/1',
      payload: Buffer.from('100 EUR'),
      qos: 2,
      messageId: 7,
      retain: false,
    } as const;
    raw.send({ ...publish, dup: false });
    expect((await raw.next('pubrec')).messageId).toBe(7);
    raw.destroy(); // lost before PUBREL
    await broker.close();

    broker = await persistent(path);
    const again = await RawClient.open(broker, { protocolVersion: 4 });
    expect((await again.connect({ clientId: publisherId, clean: false })).sessionPresent).toBe(true);
    again.send({ ...publish, dup: true });
    expect((await again.next('pubrec')).messageId).toBe(7);
    again.send({ cmd: 'pubrel', messageId: 7 });
    expect((await again.next('pubcomp')).messageId).toBe(7);

    const back = await connectClient(broker, { ...v5, clientId: subscriberId, clean: false, ...expiry });
    await back.waitForMessages(1);
    await sleep(QUIET_MS);
    expect(back.messages.map((m) => m.text)).toEqual(['100 EUR']);
  });

  it('sends PUBREL, not the PUBLISH again, for a QoS 2 delivery the subscriber had PUBREC’d', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const clientId = uniqueId('q2out');
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({ clientId, clean: false });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ledger', qos: 2 }] });
    await raw.next('suback');
    const publisher = await connectClient(broker, v311);
    await publisher.publish('ledger', 'entry', { qos: 2 });
    const delivered = await raw.next('publish');
    raw.ack(delivered); // PUBREC
    expect((await raw.next('pubrel')).messageId).toBe(delivered.messageId);
    raw.destroy(); // PUBCOMP never sent
    await publisher.disconnect();
    await broker.close();

    broker = await persistent(path);
    const again = await RawClient.open(broker, { protocolVersion: 4 });
    await again.connect({ clientId, clean: false });
    expect((await again.next('pubrel')).messageId).toBe(delivered.messageId);
    await sleep(QUIET_MS);
    expect(again.describe()).not.toContain('publish');
  });

  it('publishes a delayed will after the restart when its delay runs out', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const watcherId = uniqueId('watcher');
    const watcher = await connectClient(broker, { ...v5, clientId: watcherId, clean: false, ...expiry });
    await watcher.subscribe('status/#', { qos: 1 });
    await watcher.disconnect();
    const dying = await connectClient(broker, {
      ...v5,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: {
        topic: 'status/dying',
        payload: Buffer.from('gone'),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 2 },
      },
    });
    await dying.kill();
    const engine = broker.engine!;
    await waitUntil(() => engine.sessions.get(dying.clientId)?.client === null, 2000, 'the broker to see it');
    await broker.close();

    broker = await persistent(path);
    const back = await connectClient(broker, { ...v5, clientId: watcherId, clean: false, ...expiry });
    await sleep(QUIET_MS);
    expect(back.messages).toEqual([]); // not before its delay
    expect((await back.waitForMessage('status/dying', 4000)).text).toBe('gone');
    expect(committedRows(path, 'SELECT * FROM wills')).toEqual([]);
  });

  it('forgets a session that expired while the broker was stopped', async () => {
    const path = databasePath();
    let broker = await persistent(path);
    const clientId = uniqueId('short');
    const client = await connectClient(broker, {
      ...v5,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 1 },
    });
    await client.subscribe('x', { qos: 1 });
    await client.disconnect();
    await broker.close();
    await sleep(1200);

    broker = await persistent(path);
    const back = await connectClient(broker, {
      ...v5,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 1 },
    });
    expect(back.connack.sessionPresent).toBe(false);
    expect(committedRows(path, 'SELECT * FROM subscriptions')).toEqual([]);
  });

  it('deletes the stored session when the client connects with clean start', async () => {
    const path = databasePath();
    const broker = await persistent(path);
    const clientId = uniqueId('clean');
    const client = await connectClient(broker, { ...v5, clientId, clean: false, ...expiry });
    await client.subscribe('a/b', { qos: 1 });
    await client.disconnect();
    expect(committedRows(path, 'SELECT client_id FROM sessions')).toEqual([{ client_id: clientId }]);
    const clean = await connectClient(broker, { ...v5, clientId, clean: true });
    await clean.disconnect();
    await waitUntil(
      () => committedRows(path, 'SELECT * FROM sessions').length === 0,
      2000,
      'session deleted',
    );
    expect(committedRows(path, 'SELECT * FROM subscriptions')).toEqual([]);
  });
});

describe('durability setting', () => {
  it('commit: PUBACK leaves only once the message is in the database', async () => {
    const path = databasePath();
    const broker = await persistent(path, { persistence: { durability: 'commit' } });
    const subscriber = await connectClient(broker, { ...v5, clean: false, ...expiry });
    await subscriber.subscribe('d/#', { qos: 1 });
    await subscriber.disconnect();
    const publisher = await connectClient(broker, v5);
    for (let i = 0; i < 20; i++) {
      await publisher.publish('d/x', `n${i}`, { qos: 1 }); // resolves on PUBACK
      expect(committedRows(path, 'SELECT COUNT(*) AS n FROM session_messages')).toEqual([{ n: i + 1 }]);
    }
  });

  it('interval: PUBACK at once, the commit follows within flushIntervalMs', async () => {
    const path = databasePath();
    const broker = await persistent(path, { persistence: { durability: 'interval', flushIntervalMs: 1500 } });
    const subscriber = await connectClient(broker, { ...v5, clean: false, ...expiry });
    await subscriber.subscribe('d/#', { qos: 1 });
    await subscriber.disconnect();
    await sleep(1600);
    const publisher = await connectClient(broker, v5);
    await publisher.publish('d/x', 'fast', { qos: 1 });
    expect(committedRows(path, 'SELECT COUNT(*) AS n FROM session_messages')).toEqual([{ n: 0 }]);
    await waitUntil(
      () => (committedRows(path, 'SELECT COUNT(*) AS n FROM session_messages')[0] as { n: number }).n === 1,
      3000,
      'the interval commit',
    );
  });

  it('stores nothing for messages a persistent subscriber acknowledged within the same group', async () => {
    const path = databasePath();
    const broker = await persistent(path, { persistence: { durability: 'interval', flushIntervalMs: 2000 } });
    const subscriber = await connectClient(broker, { ...v5, clean: false, ...expiry });
    await subscriber.subscribe('fast/#', { qos: 1 });
    await sleep(2100); // the subscription's own commit
    const publisher = await connectClient(broker, v5);
    for (let i = 0; i < 100; i++) await publisher.publish('fast/x', `n${i}`, { qos: 1 });
    await subscriber.waitForMessages(100);
    const before = broker.engine!.store as unknown as { stats: { commitRows: number } };
    const rowsBefore = before.stats.commitRows;
    await sleep(2100);
    // The session row may be rewritten; no message body or session message row is.
    expect(before.stats.commitRows - rowsBefore).toBeLessThanOrEqual(1);
    expect(committedRows(path, 'SELECT COUNT(*) AS n FROM messages')).toEqual([{ n: 0 }]);
  });
});
