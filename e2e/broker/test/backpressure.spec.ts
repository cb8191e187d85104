import { describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import {
  RawClient,
  connectClient,
  expectBrokerHealthy,
  floodFromWorker,
  rawConnect,
  sleep,
  startBroker,
  startCountingSubscriber,
  v311,
  type TestBroker,
} from './support';

/** Like waitUntil, for an asynchronous condition. */
async function waitUntilAsync(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(50);
  }
}

const MESSAGES = 20_000;
const PAYLOAD = Buffer.alloc(1024, 0x78);

/** A subscriber that stops reading from its socket right after SUBACK. */
async function stalledSubscriber(broker: TestBroker, filter: string, qos: 0 | 1): Promise<RawClient> {
  const { client } = await rawConnect(broker, { protocolVersion: 4 });
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
  await client.next('suback');
  client.pause();
  return client;
}

const floodPacket: IPublishPacket = {
  cmd: 'publish',
  topic: 'bp/t',
  payload: PAYLOAD,
  qos: 0,
  dup: false,
  retain: false,
};

describe('back-pressure', () => {
  // Publisher and healthy subscriber run in worker threads: in FluxMQ mode the broker shares the test
  // process, and a subscriber on the broker's own event loop could not drain its socket like a real client.
  it(`delivers ${MESSAGES} QoS 0 messages of 1 KB to a healthy subscriber while another one is stalled`, async () => {
    const broker = await startBroker();
    const stalled = await stalledSubscriber(broker, 'bp/t', 0);
    const healthy = await startCountingSubscriber(broker, 'bp/t');

    const started = Date.now();
    // Paced by the healthy subscriber, 500 KB ahead at most: so that what it is owed stays under what the
    // broker buffers for a client (1 MB by default, beyond which QoS 0 is dropped by design), however
    // slowly its thread gets a core. The stalled one is owed all 20 MB, and must not hold anyone up.
    await floodFromWorker(broker, floodPacket, MESSAGES, { subscriber: healthy, ahead: 500 });
    let received = 0;
    await waitUntilAsync(async () => {
      received = (await healthy.count()).publishes;
      return received >= MESSAGES;
    }, 10_000).catch(() => {
      throw new Error(`healthy subscriber got ${received} of ${MESSAGES} messages`);
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    await sleep(100);
    expect((await healthy.count()).publishes).toBe(MESSAGES);
    // Sanity check of the set-up: the stalled client really read nothing after its SUBACK (whether the broker
    // keeps it connected or drops it as a slow consumer is its own business).
    expect(stalled.received.map((e) => e.packet.cmd)).toEqual(['connack', 'suback']);
    await expectBrokerHealthy(broker);
  }, 30_000);

  it('answers PINGREQ of a new client promptly while a flood backs up behind a stalled subscriber', async () => {
    const broker = await startBroker();
    await stalledSubscriber(broker, 'bp/t', 0);
    const publisher = await floodFromWorker(broker, floodPacket, MESSAGES);
    await sleep(200); // in the middle of the flood
    const { client: fresh } = await rawConnect(broker, { protocolVersion: 4 });
    const sent = Date.now();
    fresh.send({ cmd: 'pingreq' });
    await fresh.next('pingresp', 2000);
    expect(Date.now() - sent).toBeLessThan(1000);
    await publisher.once('sent', 15_000);
  }, 30_000);

  it('keeps delivering QoS 1 to a healthy subscriber while another QoS 1 subscriber never reads or acks', async () => {
    const broker = await startBroker();
    await stalledSubscriber(broker, 'bp/q1', 1);
    const healthy = await connectClient(broker, v311);
    await healthy.subscribe('bp/q1', { qos: 1 });
    const publisher = await connectClient(broker, v311);
    const count = 500; // below the healthy subscriber's own queue limit (1000 by default)
    await Promise.all(
      Array.from({ length: count }, (_, i) => publisher.publish('bp/q1', `m${i}`, { qos: 1 })),
    );
    const messages = await healthy.waitForMessages(count, 10_000);
    expect(new Set(messages.map((m) => m.text)).size).toBe(count);
  }, 30_000);
});
