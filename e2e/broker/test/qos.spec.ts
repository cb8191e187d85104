import { describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import {
  QUIET_MS,
  RawClient,
  connectClient,
  mosquittoDeviates,
  rawConnect,
  sleep,
  startBroker,
  uniqueId,
  type ProtocolVersion,
  type TestBroker,
} from './support';

const versions = [
  ['3.1.1', 4],
  ['5.0', 5],
] as const;

function publish(
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  messageId?: number,
  dup = false,
): IPublishPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos, dup, retain: false, messageId };
}

/** A raw subscriber on `filter`: returns once SUBACK granted `qos`. */
async function rawSubscriber(
  broker: TestBroker,
  protocolVersion: ProtocolVersion,
  filter: string,
  qos: 0 | 1 | 2,
  connect: Parameters<RawClient['connect']>[0] = {},
): Promise<RawClient> {
  const { client } = await rawConnect(broker, { protocolVersion, ...connect });
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
  const suback = await client.next('suback');
  expect(suback.granted).toEqual([qos]);
  return client;
}

describe('QoS flows', () => {
  it.each(versions)('QoS 0 (%s): delivered at QoS 0, no acknowledgement to the publisher', async (_, v) => {
    const broker = await startBroker();
    const subscriber = await rawSubscriber(broker, v, 'q/0', 2);
    const { client: publisher } = await rawConnect(broker, { protocolVersion: v });
    publisher.send(publish('q/0', 'zero', 0));
    const received = await subscriber.next('publish');
    expect(received).toMatchObject({ topic: 'q/0', qos: 0, dup: false, retain: false });
    expect(received.payload.toString()).toBe('zero');
    expect(received.messageId).toBeUndefined();
    await sleep(QUIET_MS);
    expect(publisher.received.map((e) => e.packet.cmd)).toEqual(['connack']);
  });

  it.each(versions)('QoS 1 (%s): PUBACK with the packet id; subscriber gets QoS 1, DUP 0', async (_, v) => {
    const broker = await startBroker();
    const subscriber = await rawSubscriber(broker, v, 'q/1', 2);
    const { client: publisher } = await rawConnect(broker, { protocolVersion: v });
    publisher.send(publish('q/1', 'one', 1, 42));
    const puback = await publisher.next('puback');
    expect(puback.messageId).toBe(42);
    if (v === 5) expect(puback.reasonCode ?? 0).toBe(0);
    const received = await subscriber.next('publish');
    expect(received).toMatchObject({ topic: 'q/1', qos: 1, dup: false });
    expect(received.payload.toString()).toBe('one');
    expect(received.messageId).toBeGreaterThan(0);
    subscriber.ack(received);
    await sleep(QUIET_MS);
    expect(subscriber.all('publish')).toHaveLength(1);
  });

  it.each(versions)('QoS 2 inbound (%s): PUBREC, then PUBCOMP for PUBREL, same packet id', async (_, v) => {
    const broker = await startBroker();
    const subscriber = await connectClient(broker, { protocolVersion: v });
    await subscriber.subscribe('q/2', { qos: 2 });
    const { client: publisher } = await rawConnect(broker, { protocolVersion: v });
    publisher.send(publish('q/2', 'two', 2, 7));
    const pubrec = await publisher.next('pubrec');
    expect(pubrec.messageId).toBe(7);
    if (v === 5) expect(pubrec.reasonCode ?? 0).toBe(0);
    publisher.send({ cmd: 'pubrel', messageId: 7 });
    const pubcomp = await publisher.next('pubcomp');
    expect(pubcomp.messageId).toBe(7);
    const [message] = await subscriber.waitForMessages(1);
    expect(message.text).toBe('two');
    expect(message.packet.qos).toBe(2);
  });

  it.each(versions)('QoS 2 outbound (%s): PUBLISH, PUBREC -> PUBREL, PUBCOMP ends the flow', async (_, v) => {
    const broker = await startBroker();
    const subscriber = await rawSubscriber(broker, v, 'q/2', 2);
    const publisher = await connectClient(broker, { protocolVersion: v });
    await publisher.publish('q/2', 'two', { qos: 2 });
    const received = await subscriber.next('publish');
    expect(received).toMatchObject({ topic: 'q/2', qos: 2, dup: false });
    subscriber.send({ cmd: 'pubrec', messageId: received.messageId });
    const pubrel = await subscriber.nextRaw('pubrel');
    expect(pubrel.packet.messageId).toBe(received.messageId);
    expect(pubrel.raw[0]).toBe(0x62); // PUBREL fixed header flags are 0010
    subscriber.send({ cmd: 'pubcomp', messageId: received.messageId });
    await sleep(QUIET_MS);
    expect(subscriber.received.map((e) => e.packet.cmd)).toEqual(['connack', 'suback', 'publish', 'pubrel']);
  });

  it('delivers at the lower of the publish QoS and the granted subscription QoS', async () => {
    const broker = await startBroker();
    const { client: subscriber } = await rawConnect(broker, { protocolVersion: 4 });
    subscriber.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'down/0', qos: 0 },
        { topic: 'down/1', qos: 1 },
        { topic: 'down/2', qos: 2 },
      ],
    });
    expect((await subscriber.next('suback')).granted).toEqual([0, 1, 2]);
    const publisher = await connectClient(broker, { protocolVersion: 4 });
    await publisher.publish('down/0', 'a', { qos: 2 });
    await publisher.publish('down/1', 'b', { qos: 2 });
    await publisher.publish('down/2', 'c', { qos: 1 });
    await subscriber.waitForCount('publish', 3);
    const byTopic = Object.fromEntries(subscriber.all('publish').map((p) => [p.topic, p.qos]));
    expect(byTopic).toEqual({ 'down/0': 0, 'down/1': 1, 'down/2': 1 });
  });

  it('answers a 5.0 QoS 1 publish that matched no subscription with PUBACK 0x10', async () => {
    const broker = await startBroker();
    const { client: publisher } = await rawConnect(broker, { protocolVersion: 5 });
    publisher.send(publish('nobody/listens', 'x', 1, 3));
    const puback = await publisher.next('puback');
    expect(puback.messageId).toBe(3);
    expect(puback.reasonCode).toBe(0x10);
  });

  it.each(versions)(
    'QoS 2 exactly once (%s): a PUBLISH resent with DUP=1 before PUBREL is delivered once',
    async (_, v) => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, { protocolVersion: v });
      await subscriber.subscribe('once', { qos: 2 });
      const { client: publisher } = await rawConnect(broker, { protocolVersion: v });
      publisher.send(publish('once', 'exactly once', 2, 11));
      await publisher.next('pubrec');
      publisher.send(publish('once', 'exactly once', 2, 11, true));
      const again = await publisher.next('pubrec');
      expect(again.messageId).toBe(11);
      publisher.send({ cmd: 'pubrel', messageId: 11 });
      expect((await publisher.next('pubcomp')).messageId).toBe(11);
      await subscriber.waitForMessages(1);
      await sleep(QUIET_MS);
      expect(subscriber.messages.map((m) => m.text)).toEqual(['exactly once']);
    },
  );

  it.each(versions)(
    'QoS 2 exactly once (%s): a subscriber reconnecting after PUBREC gets PUBREL again, not the PUBLISH',
    async (_, v) => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const persistent = v === 5 ? { properties: { sessionExpiryInterval: 60 } } : {};
      const first = await rawSubscriber(broker, v, 'mid/flow', 2, { clientId, clean: false, ...persistent });
      const publisher = await connectClient(broker, { protocolVersion: v });
      await publisher.publish('mid/flow', 'once', { qos: 2 });
      const delivered = await first.next('publish');
      first.send({ cmd: 'pubrec', messageId: delivered.messageId });
      await first.next('pubrel');
      first.destroy(); // lost before PUBCOMP

      const second = await RawClient.open(broker, { protocolVersion: v });
      const connack = await second.connect({ clientId, clean: false, ...persistent });
      expect(connack.sessionPresent).toBe(true);
      const pubrel = await second.next('pubrel');
      expect(pubrel.messageId).toBe(delivered.messageId);
      second.send({ cmd: 'pubcomp', messageId: pubrel.messageId });
      await sleep(QUIET_MS);
      expect(second.all('publish')).toHaveLength(0);
    },
  );

  it.each([
    ['3.1.1', 1, 4],
    ['3.1.1', 2, 4],
    ['5.0', 1, 5],
    ['5.0', 2, 5],
  ] as const)(
    'redelivers an unacknowledged message with DUP=1 when the %s session reconnects (QoS %i)',
    async (_, qos, v) => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const persistent = v === 5 ? { properties: { sessionExpiryInterval: 60 } } : {};
      const first = await rawSubscriber(broker, v, 'redeliver', qos, {
        clientId,
        clean: false,
        ...persistent,
      });
      const publisher = await connectClient(broker, { protocolVersion: v });
      await publisher.publish('redeliver', 'again', { qos });
      const original = await first.next('publish');
      expect(original.dup).toBe(false);
      first.destroy(); // never acknowledged

      const second = await RawClient.open(broker, { protocolVersion: v });
      await second.connect({ clientId, clean: false, ...persistent });
      const resent = await second.next('publish');
      expect(resent).toMatchObject({ topic: 'redeliver', qos, dup: true, messageId: original.messageId });
      expect(resent.payload.toString()).toBe('again');
      second.ack(resent);
    },
  );

  it('sends no more than the client Receive Maximum (5.0) QoS 1 messages before any acknowledgement', async () => {
    const broker = await startBroker();
    const subscriber = await rawSubscriber(broker, 5, 'window', 1, { properties: { receiveMaximum: 3 } });
    const publisher = await connectClient(broker, { protocolVersion: 5 });
    for (let i = 0; i < 10; i++) await publisher.publish('window', `m${i}`, { qos: 1 });
    await subscriber.waitForCount('publish', 3);
    await sleep(QUIET_MS);
    expect(subscriber.all('publish').map((p) => p.payload.toString())).toEqual(['m0', 'm1', 'm2']);
  });

  mosquittoDeviates('2.0.11 sends a whole new window after one PUBACK, exceeding Receive Maximum')(
    'frees exactly one slot of the client Receive Maximum (5.0) per acknowledgement',
    async () => {
      const broker = await startBroker();
      const subscriber = await rawSubscriber(broker, 5, 'window', 1, { properties: { receiveMaximum: 3 } });
      const publisher = await connectClient(broker, { protocolVersion: 5 });
      for (let i = 0; i < 10; i++) await publisher.publish('window', `m${i}`, { qos: 1 });
      await subscriber.waitForCount('publish', 3);
      subscriber.ack(await subscriber.next('publish'));
      await subscriber.waitForCount('publish', 4);
      await sleep(QUIET_MS);
      expect(subscriber.all('publish')).toHaveLength(4);

      // Acknowledging one at a time drains the rest, in order, never more than 3 unacknowledged.
      for (let acked = 1; acked < 10; acked++) {
        subscriber.ack(await subscriber.next('publish'));
        expect(subscriber.all('publish').length - (acked + 1)).toBeLessThanOrEqual(3);
      }
      expect(subscriber.all('publish').map((p) => p.payload.toString())).toEqual(
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
    },
  );

  it('keeps at most mqtt.maxInflight unacknowledged QoS 1 messages in flight to a 3.1.1 client', async () => {
    const broker = await startBroker({ mqtt: { maxInflight: 3 } });
    const subscriber = await rawSubscriber(broker, 4, 'window', 1);
    const publisher = await connectClient(broker, { protocolVersion: 4 });
    for (let i = 0; i < 6; i++) await publisher.publish('window', `m${i}`, { qos: 1 });
    await subscriber.waitForCount('publish', 3);
    await sleep(QUIET_MS);
    expect(subscriber.all('publish')).toHaveLength(3);
    for (let acked = 0; acked < 6; acked++) subscriber.ack(await subscriber.next('publish'));
    expect(subscriber.all('publish')).toHaveLength(6);
  });

  mosquittoDeviates('2.0.11 answers the excess PUBLISH with PUBREC 0x97 and keeps the connection')(
    'disconnects a 5.0 client exceeding the broker Receive Maximum with DISCONNECT 0x93',
    async () => {
      const broker = await startBroker({ mqtt: { receiveMaximum: 2 } });
      const { client: publisher, connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.receiveMaximum).toBe(2);
      // QoS 2 publishes stay in flight until PUBREL, which this client never sends.
      for (let id = 1; id <= 3; id++) publisher.send(publish('flood', `m${id}`, 2, id));
      await publisher.waitForClose();
      expect(publisher.all('disconnect').map((d) => d.reasonCode)).toEqual([0x93]);
    },
  );
});
