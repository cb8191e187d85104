import { describe, expect, it } from 'vitest';
import {
  QUIET_MS,
  connectClient,
  fluxOnly,
  mosquittoDeviates,
  rawConnect,
  sleep,
  startBroker,
  subscriptionIds,
  v311,
  v5,
  type TestClient,
} from './support';

const SENTINEL = 'zz-sentinel/done';

/**
 * Publishes `topic` and then a sentinel from the same connection, waits for the sentinel at `subscriber`,
 * and returns the messages `subscriber` got on `topic` by then (in-order delivery makes this a fast
 * negative check). `subscriber` must be subscribed to SENTINEL.
 */
async function publishAndSettle(
  publisher: TestClient,
  subscriber: TestClient,
  topic: string,
): Promise<string[]> {
  await publisher.publish(topic, 'probe', { qos: 1 });
  await publisher.publish(SENTINEL, 'done', { qos: 1 });
  await subscriber.waitForMessage(SENTINEL);
  await sleep(20);
  return subscriber.messagesOn(topic).map((m) => m.text);
}

describe('subscriptions', () => {
  describe('topic filter matching', () => {
    it.each([
      ['sport/tennis/player1/#', 'sport/tennis/player1', true],
      ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
      ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
      ['sport/#', 'sport', true],
      ['#', 'any/topic/at/all', true],
      ['#', '/leading/slash', true],
      ['sport/tennis/+', 'sport/tennis/player1', true],
      ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
      ['sport/+', 'sport', false],
      ['sport/+', 'sport/', true],
      ['+', 'sport', true],
      ['+', '/finance', false],
      ['+/+', '/finance', true],
      ['/+', '/finance', true],
      ['+/+/+', 'a//b', true],
      ['sport/+/player1', 'sport/tennis/player1', true],
      ['+/tennis/#', 'sport/tennis/player1/ranking', true],
      ['a/b', 'a/B', false],
      ['a/b', 'a/b/', false],
      // Topics starting with $ are not matched by filters starting with a wildcard. Mosquitto (rightly)
      // ignores client publications to $SYS, so the client-published rows use another $ prefix and the
      // $SYS rows below use the broker's own $SYS topics.
      ['#', '$e2e/test', false],
      ['+/monitor', '$e2e/monitor', false],
      ['$e2e/#', '$e2e/test', true],
      ['$e2e/+', '$e2e/monitor', true],
    ])('filter %j vs topic %j -> match %s', async (filter, topic, expected) => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, v311);
      await subscriber.subscribe([filter, SENTINEL], { qos: 1 });
      // Proves the broker accepted the publish at all (relevant for $-topics).
      const control = await connectClient(broker, v311);
      await control.subscribe(topic, { qos: 1 });
      const publisher = await connectClient(broker, v311);
      const got = await publishAndSettle(publisher, subscriber, topic);
      await control.waitForMessage(topic);
      expect(got).toEqual(expected ? ['probe'] : []);
    });
  });

  describe('$SYS topics', () => {
    it.each([['#'], ['+/broker/uptime'], ['+/broker/#']])(
      'does not match the broker $SYS topics with filter %j, while $SYS/# gets them',
      async (filter) => {
        const broker = await startBroker({ sys: { enabled: true, intervalSeconds: 1 } });
        const wildcard = await connectClient(broker, v311);
        await wildcard.subscribe(filter, { qos: 0 });
        const sys = await connectClient(broker, v311);
        await sys.subscribe('$SYS/#', { qos: 0 });
        await sys.waitForMessage('$SYS/broker/uptime', 3000);
        // A full update cycle has passed for `wildcard` too (it subscribed first).
        await sys.waitForMessages(2, 3000, (m) => m.topic === '$SYS/broker/uptime');
        expect(wildcard.messages.filter((m) => m.topic.startsWith('$'))).toEqual([]);
      },
    );
  });

  describe('invalid topic filters', () => {
    mosquittoDeviates('closes the connection instead').each<[string]>([
      ['a/#/b'],
      ['a+'],
      ['#a'],
      ['a/b#'],
      ['+a/b'],
    ])('answers SUBSCRIBE to %j with return code 0x80 in 3.1.1, next to a granted filter', async (filter) => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, { protocolVersion: 4 });
      client.send({
        cmd: 'subscribe',
        messageId: 5,
        subscriptions: [
          { topic: 'ok/topic', qos: 1 },
          { topic: filter, qos: 1 },
        ],
      });
      const suback = await client.next('suback');
      expect(suback.messageId).toBe(5);
      expect(suback.granted).toEqual([1, 0x80]);
    });
  });

  describe('invalid topic filters (5.0)', () => {
    mosquittoDeviates('closes the connection with DISCONNECT 0x81 instead').each<[string]>([
      ['a/#/b'],
      ['a+'],
      ['#a'],
      ['a/b#'],
      ['+a/b'],
    ])('answers SUBSCRIBE to %j with reason code 0x8F, next to a granted filter', async (filter) => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send({
        cmd: 'subscribe',
        messageId: 6,
        subscriptions: [
          { topic: filter, qos: 1 },
          { topic: 'ok/topic', qos: 2 },
        ],
      });
      const suback = await client.next('suback');
      expect(suback.messageId).toBe(6);
      expect(suback.granted).toEqual([0x8f, 2]);
      expect(client.closed).toBe(false);
    });
  });

  describe('invalid topic names in PUBLISH', () => {
    it.each([
      ['3.1.1', 'a/+', 4],
      ['3.1.1', 'a/#', 4],
      ['5.0', '+', 5],
      ['5.0', '#', 5],
    ] as const)('closes a %s connection publishing to %j and delivers nothing', async (_, topic, v) => {
      const broker = await startBroker();
      const watcher = await connectClient(broker, v311);
      await watcher.subscribe(['#', SENTINEL], { qos: 0 });
      const { client } = await rawConnect(broker, { protocolVersion: v });
      client.send({ cmd: 'publish', topic, payload: Buffer.from('bad'), qos: 0, dup: false, retain: false });
      await client.waitForClose();
      await sleep(QUIET_MS);
      expect(watcher.messages).toHaveLength(0);
    });

    mosquittoDeviates('sends DISCONNECT 0x82 (Protocol Error) instead')(
      'sends DISCONNECT 0x90 (Topic Name invalid) to a 5.0 client publishing to a wildcard topic',
      async () => {
        const broker = await startBroker();
        const { client } = await rawConnect(broker, { protocolVersion: 5 });
        client.send({
          cmd: 'publish',
          topic: 'a/+/b',
          payload: Buffer.from('bad'),
          qos: 1,
          messageId: 1,
          dup: false,
          retain: false,
        });
        await client.waitForClose();
        expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0x90]);
      },
    );
  });

  describe('overlapping subscriptions', () => {
    fluxOnly('Mosquitto sends one copy per matching subscription, which the spec also allows')(
      'delivers one copy at the highest granted QoS to a 3.1.1 client with overlapping filters',
      async () => {
        const broker = await startBroker();
        const subscriber = await connectClient(broker, v311);
        await subscriber.subscribe({ 'ov/+': { qos: 1 }, 'ov/#': { qos: 2 }, 'ov/a': { qos: 0 } });
        const publisher = await connectClient(broker, v311);
        await publisher.publish('ov/a', 'once', { qos: 2 });
        await subscriber.waitForMessages(1);
        await sleep(QUIET_MS);
        expect(subscriber.messages.map((m) => [m.text, m.packet.qos])).toEqual([['once', 2]]);
      },
    );

    fluxOnly('Mosquitto sends one copy per matching subscription, which the spec also allows')(
      'delivers one copy at the highest QoS carrying every matching Subscription Identifier (5.0)',
      async () => {
        const broker = await startBroker();
        const subscriber = await connectClient(broker, v5);
        await subscriber.subscribe('ov/+', { qos: 1, properties: { subscriptionIdentifier: 1 } });
        await subscriber.subscribe('ov/#', { qos: 2, properties: { subscriptionIdentifier: 2 } });
        await subscriber.subscribe('ov/a', { qos: 0, properties: { subscriptionIdentifier: 3 } });
        await subscriber.subscribe('other/#', { qos: 2, properties: { subscriptionIdentifier: 4 } });
        const publisher = await connectClient(broker, v5);
        await publisher.publish('ov/a', 'once', { qos: 2 });
        const [message] = await subscriber.waitForMessages(1);
        await sleep(QUIET_MS);
        expect(subscriber.messages).toHaveLength(1);
        expect(message.packet.qos).toBe(2);
        expect(subscriptionIds(message.packet)).toEqual([1, 2, 3]);
      },
    );

    it('replaces an existing subscription to the same filter instead of adding a second one', async () => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, v311);
      expect((await subscriber.subscribe('same/t', { qos: 0 }))[0].qos).toBe(0);
      expect((await subscriber.subscribe('same/t', { qos: 2 }))[0].qos).toBe(2);
      const publisher = await connectClient(broker, v311);
      await publisher.publish('same/t', 'x', { qos: 2 });
      await subscriber.waitForMessages(1);
      await sleep(QUIET_MS);
      expect(subscriber.messages.map((m) => m.packet.qos)).toEqual([2]);
    });
  });

  describe('5.0 subscription options', () => {
    it('No Local: a client does not get its own publications on a No Local subscription', async () => {
      const broker = await startBroker();
      const self = await connectClient(broker, v5);
      await self.subscribe('nl/t', { qos: 1, nl: true });
      await self.subscribe(SENTINEL, { qos: 1 });
      const other = await connectClient(broker, v5);
      await other.subscribe('nl/t', { qos: 1 });
      const got = await publishAndSettle(self, self, 'nl/t');
      expect(got).toEqual([]);
      expect((await other.waitForMessage('nl/t')).text).toBe('probe');
    });

    it('No Local off (default): a client gets its own publications', async () => {
      const broker = await startBroker();
      const self = await connectClient(broker, v5);
      await self.subscribe(['nl/t', SENTINEL], { qos: 1 });
      expect(await publishAndSettle(self, self, 'nl/t')).toEqual(['probe']);
    });

    it('Retain As Published keeps the RETAIN flag on forwarded messages; without it the flag is cleared', async () => {
      const broker = await startBroker();
      const keeps = await connectClient(broker, v5);
      await keeps.subscribe('rap/t', { qos: 1, rap: true });
      const clears = await connectClient(broker, v5);
      await clears.subscribe('rap/t', { qos: 1, rap: false });
      const publisher = await connectClient(broker, v5);
      await publisher.publish('rap/t', 'retained live', { qos: 1, retain: true });
      expect((await keeps.waitForMessage('rap/t')).packet.retain).toBe(true);
      expect((await clears.waitForMessage('rap/t')).packet.retain).toBe(false);
    });

    it('Retain Handling 0 sends retained messages on every subscribe, also on a resubscribe', async () => {
      const broker = await startBroker();
      const publisher = await connectClient(broker, v5);
      await publisher.publish('rh/t', 'stored', { qos: 1, retain: true });
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe('rh/t', { qos: 1, rh: 0 });
      await subscriber.waitForMessages(1);
      await subscriber.subscribe('rh/t', { qos: 1, rh: 0 });
      const messages = await subscriber.waitForMessages(2);
      expect(messages.map((m) => [m.text, m.packet.retain])).toEqual([
        ['stored', true],
        ['stored', true],
      ]);
    });

    it('Retain Handling 1 sends retained messages only when the subscription is new', async () => {
      const broker = await startBroker();
      const publisher = await connectClient(broker, v5);
      await publisher.publish('rh/t', 'stored', { qos: 1, retain: true });
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe(SENTINEL, { qos: 1 });
      await subscriber.subscribe('rh/t', { qos: 1, rh: 1 });
      await subscriber.waitForMessages(1);
      await subscriber.subscribe('rh/t', { qos: 1, rh: 1 });
      await publisher.publish(SENTINEL, 'done', { qos: 1 });
      await subscriber.waitForMessage(SENTINEL);
      await sleep(QUIET_MS);
      expect(subscriber.messagesOn('rh/t').map((m) => m.text)).toEqual(['stored']);
    });

    it('Retain Handling 2 never sends retained messages on subscribe', async () => {
      const broker = await startBroker();
      const publisher = await connectClient(broker, v5);
      await publisher.publish('rh/t', 'stored', { qos: 1, retain: true });
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe('rh/t', { qos: 1, rh: 2 });
      await sleep(QUIET_MS);
      expect(subscriber.messages).toHaveLength(0);
      // The subscription itself works.
      await publisher.publish('rh/t', 'live', { qos: 1 });
      expect((await subscriber.waitForMessage('rh/t')).text).toBe('live');
    });

    it('delivers the Subscription Identifier of the matching subscription in PUBLISH', async () => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe('sid/+', { qos: 1, properties: { subscriptionIdentifier: 42 } });
      await subscriber.subscribe('other', { qos: 1, properties: { subscriptionIdentifier: 268435455 } });
      await subscriber.subscribe('plain', { qos: 1 });
      const publisher = await connectClient(broker, v5);
      await publisher.publish('sid/a', 'a', { qos: 1 });
      await publisher.publish('other', 'b', { qos: 1 });
      await publisher.publish('plain', 'c', { qos: 1 });
      const messages = await subscriber.waitForMessages(3);
      expect(messages.map((m) => [m.topic, subscriptionIds(m.packet)])).toEqual([
        ['sid/a', [42]],
        ['other', [268435455]],
        ['plain', []],
      ]);
    });
  });

  describe('maximum QoS', () => {
    it('advertises Maximum QoS 1 in the 5.0 CONNACK and downgrades SUBACK grants', async () => {
      const broker = await startBroker({ mqtt: { maxQos: 1 } });
      const { client, connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.maximumQoS).toBe(1);
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: 'a', qos: 0 },
          { topic: 'b', qos: 1 },
          { topic: 'c', qos: 2 },
        ],
      });
      expect((await client.next('suback')).granted).toEqual([0, 1, 1]);
    });

    it('advertises Maximum QoS 0 in the 5.0 CONNACK and grants only QoS 0', async () => {
      const broker = await startBroker({ mqtt: { maxQos: 0 } });
      const { client, connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.maximumQoS).toBe(0);
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'c', qos: 2 }] });
      expect((await client.next('suback')).granted).toEqual([0]);
    });

    it('omits Maximum QoS from the 5.0 CONNACK when QoS 2 is supported', async () => {
      const broker = await startBroker();
      const { connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.maximumQoS).toBeUndefined();
    });

    it('downgrades 3.1.1 SUBACK grants to mqtt.maxQos', async () => {
      const broker = await startBroker({ mqtt: { maxQos: 1 } });
      const { client } = await rawConnect(broker, { protocolVersion: 4 });
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'c', qos: 2 }] });
      expect((await client.next('suback')).granted).toEqual([1]);
    });

    it('disconnects a 5.0 client publishing above Maximum QoS with DISCONNECT 0x9B', async () => {
      const broker = await startBroker({ mqtt: { maxQos: 1 } });
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send({
        cmd: 'publish',
        topic: 'q2',
        payload: Buffer.from('x'),
        qos: 2,
        messageId: 1,
        dup: false,
        retain: false,
      });
      await client.waitForClose();
      expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0x9b]);
    });
  });

  describe('unsubscribe', () => {
    it.each([
      ['3.1.1', v311],
      ['5.0', v5],
    ] as const)('stops delivery after UNSUBSCRIBE (%s)', async (_, version) => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, version);
      await subscriber.subscribe(['un/t', SENTINEL], { qos: 1 });
      const publisher = await connectClient(broker, version);
      expect(await publishAndSettle(publisher, subscriber, 'un/t')).toEqual(['probe']);
      await subscriber.unsubscribe('un/t');
      subscriber.messages.length = 0;
      expect(await publishAndSettle(publisher, subscriber, 'un/t')).toEqual([]);
    });

    it('answers 5.0 UNSUBSCRIBE with 0x00 for a subscribed filter and 0x11 for an unknown one', async () => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'known/+', qos: 1 }] });
      await client.next('suback');
      client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['known/+', 'unknown/#'] });
      const unsuback = await client.next('unsuback');
      expect(unsuback.messageId).toBe(2);
      expect(unsuback.granted).toEqual([0x00, 0x11]);
    });

    it('answers 3.1.1 UNSUBSCRIBE with an UNSUBACK carrying the packet id, also for unknown filters', async () => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, { protocolVersion: 4 });
      client.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['never/subscribed'] });
      const unsuback = await client.nextRaw('unsuback');
      expect(unsuback.raw.toString('hex')).toBe('b0020009');
    });
  });
});
