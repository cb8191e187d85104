import { describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import {
  PROP,
  QUIET_MS,
  connectClient,
  fluxOnly,
  mosquittoDeviates,
  mqttString,
  packet,
  publishProperties,
  publishUserProperties,
  rawConnect,
  sleep,
  startBroker,
  uniqueId,
  v5,
  varint,
  type TestBroker,
} from './support';

function publish(
  topic: string,
  payload: string,
  properties: IPublishPacket['properties'] = {},
): IPublishPacket {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos: 0,
    dup: false,
    retain: false,
    properties,
  };
}

/** A persistent 5.0 subscriber on `filter` that went offline; returns its client id. */
async function parkSubscriber(broker: TestBroker, filter: string): Promise<string> {
  const clientId = uniqueId('parked');
  const subscriber = await connectClient(broker, {
    ...v5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 60 },
  });
  await subscriber.subscribe(filter, { qos: 1 });
  await subscriber.disconnect();
  return clientId;
}

describe('MQTT 5.0 properties', () => {
  describe('Message Expiry Interval', () => {
    it('forwards it to a live subscriber', async () => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe('exp/t', { qos: 1 });
      const publisher = await connectClient(broker, v5);
      await publisher.publish('exp/t', 'x', { qos: 1, properties: { messageExpiryInterval: 10 } });
      const interval = (await subscriber.waitForMessage('exp/t')).packet.properties?.messageExpiryInterval;
      expect(interval).toBeGreaterThanOrEqual(9);
      expect(interval).toBeLessThanOrEqual(10);
    });

    it('forwards a queued message with the interval reduced by the time it waited', async () => {
      const broker = await startBroker();
      const clientId = await parkSubscriber(broker, 'exp/t');
      const publisher = await connectClient(broker, v5);
      await publisher.publish('exp/t', 'waited', { qos: 1, properties: { messageExpiryInterval: 10 } });
      await sleep(2200);
      const back = await connectClient(broker, { ...v5, clientId, clean: false });
      const interval = (await back.waitForMessage('exp/t')).packet.properties?.messageExpiryInterval;
      expect(interval).toBeGreaterThanOrEqual(1);
      expect(interval).toBeLessThanOrEqual(8);
    });

    it('drops a queued message once its Message Expiry Interval has passed', async () => {
      const broker = await startBroker();
      const clientId = await parkSubscriber(broker, 'exp/+');
      const publisher = await connectClient(broker, v5);
      await publisher.publish('exp/short', 'expired', { qos: 1, properties: { messageExpiryInterval: 1 } });
      await publisher.publish('exp/none', 'no expiry', { qos: 1 });
      await sleep(2100);
      const back = await connectClient(broker, { ...v5, clientId, clean: false });
      await back.waitForMessage('exp/none');
      await sleep(QUIET_MS);
      expect(back.messages.map((m) => m.text)).toEqual(['no expiry']);
      expect(back.messages[0].packet.properties?.messageExpiryInterval).toBeUndefined();
    });
  });

  describe('Topic Alias', () => {
    it('advertises mqtt.topicAliasMaximum in CONNACK', async () => {
      const broker = await startBroker({ mqtt: { topicAliasMaximum: 5 } });
      const { connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.topicAliasMaximum).toBe(5);
    });

    it('resolves inbound aliases: alias set with a topic, then used alone', async () => {
      const broker = await startBroker({ mqtt: { topicAliasMaximum: 5 } });
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe('alias/#', { qos: 0 });
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send(publish('alias/full/name', 'first', { topicAlias: 3 }));
      client.send(publish('', 'second', { topicAlias: 3 }));
      client.send(publish('alias/other', 'third', { topicAlias: 3 })); // re-maps alias 3
      client.send(publish('', 'fourth', { topicAlias: 3 }));
      const messages = await subscriber.waitForMessages(4);
      expect(messages.map((m) => [m.topic, m.text])).toEqual([
        ['alias/full/name', 'first'],
        ['alias/full/name', 'second'],
        ['alias/other', 'third'],
        ['alias/other', 'fourth'],
      ]);
      // The alias is the publisher's business only: subscribers do not see it.
      expect(messages.every((m) => m.packet.properties?.topicAlias === undefined)).toBe(true);
    });

    mosquittoDeviates('sends DISCONNECT 0x81 (Malformed Packet) instead')(
      'disconnects a client using Topic Alias 0 with DISCONNECT 0x94',
      async () => {
        const broker = await startBroker({ mqtt: { topicAliasMaximum: 2 } });
        const { client } = await rawConnect(broker, { protocolVersion: 5 });
        client.send(publish('alias/t', 'x', { topicAlias: 0 }));
        await client.waitForClose();
        expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0x94]);
      },
    );

    it('disconnects a client using a Topic Alias above the maximum (3 > 2) with DISCONNECT 0x94', async () => {
      const broker = await startBroker({ mqtt: { topicAliasMaximum: 2 } });
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send(publish('alias/t', 'x', { topicAlias: 3 }));
      await client.waitForClose();
      expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0x94]);
    });

    it('treats an empty topic with an alias that was never set as a protocol error (DISCONNECT 0x82)', async () => {
      const broker = await startBroker({ mqtt: { topicAliasMaximum: 5 } });
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send(publish('', 'x', { topicAlias: 1 }));
      await client.waitForClose();
      expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0x82]);
    });

    it('sends outbound aliases only within the client Topic Alias Maximum, always resolvable', async () => {
      const broker = await startBroker();
      const { client: subscriber } = await rawConnect(broker, {
        protocolVersion: 5,
        properties: { topicAliasMaximum: 2 },
      });
      subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'out/#', qos: 0 }] });
      await subscriber.next('suback');
      const publisher = await connectClient(broker, v5);
      const sent = ['out/a', 'out/a', 'out/b', 'out/a', 'out/c', 'out/c', 'out/b', 'out/a'];
      for (const topic of sent) await publisher.publish(topic, topic, { qos: 0 });
      await subscriber.waitForCount('publish', sent.length);
      const aliases = new Map<number, string>();
      const resolved = subscriber.all('publish').map((p) => {
        const alias = p.properties?.topicAlias;
        if (alias === undefined) {
          expect(p.topic).not.toBe('');
          return p.topic;
        }
        expect(alias).toBeGreaterThanOrEqual(1);
        expect(alias).toBeLessThanOrEqual(2);
        if (p.topic !== '') aliases.set(alias, p.topic);
        const topic = aliases.get(alias);
        expect(topic).toBeDefined();
        return topic;
      });
      expect(resolved).toEqual(sent);
      expect(subscriber.all('publish').map((p) => p.payload.toString())).toEqual(sent);
    });

    it('gives MQTT.js (Topic Alias Maximum 5) the full topic of every message', async () => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, { ...v5, properties: { topicAliasMaximum: 5 } });
      await subscriber.subscribe('out/#', { qos: 1 });
      const publisher = await connectClient(broker, v5);
      const sent = ['out/x', 'out/y', 'out/x', 'out/x', 'out/y'];
      for (const topic of sent) await publisher.publish(topic, topic, { qos: 1 });
      const messages = await subscriber.waitForMessages(sent.length);
      expect(messages.map((m) => [m.topic, m.text])).toEqual(sent.map((t) => [t, t]));
    });

    it('sends no Topic Alias to a client that did not allow any', async () => {
      const broker = await startBroker();
      const { client: subscriber } = await rawConnect(broker, { protocolVersion: 5 });
      subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'out/#', qos: 0 }] });
      await subscriber.next('suback');
      const publisher = await connectClient(broker, v5);
      for (let i = 0; i < 3; i++) await publisher.publish('out/same', String(i), { qos: 0 });
      await subscriber.waitForCount('publish', 3);
      expect(subscriber.all('publish').map((p) => [p.topic, p.properties?.topicAlias])).toEqual([
        ['out/same', undefined],
        ['out/same', undefined],
        ['out/same', undefined],
      ]);
    });
  });

  describe('forwarded properties', () => {
    it('forwards Payload Format Indicator and Content Type', async () => {
      const broker = await startBroker();
      const subscriber = await connectClient(broker, v5);
      await subscriber.subscribe('props/#', { qos: 1 });
      const publisher = await connectClient(broker, v5);
      await publisher.publish('props/json', '{"a":1}', {
        qos: 1,
        properties: { payloadFormatIndicator: true, contentType: 'application/json' },
      });
      await publisher.publish('props/bin', Buffer.from([0xff, 0x00]), {
        qos: 1,
        properties: { payloadFormatIndicator: false },
      });
      const [json, bin] = await subscriber.waitForMessages(2);
      expect(json.packet.properties?.payloadFormatIndicator).toBe(true);
      expect(json.packet.properties?.contentType).toBe('application/json');
      expect(bin.packet.properties?.payloadFormatIndicator ?? false).toBe(false);
      expect(bin.packet.properties?.contentType).toBeUndefined();
    });

    it('forwards Response Topic and Correlation Data (request/response)', async () => {
      const broker = await startBroker();
      const responder = await connectClient(broker, v5);
      await responder.subscribe('rpc/request', { qos: 1 });
      const requester = await connectClient(broker, v5);
      await requester.subscribe('rpc/reply/me', { qos: 1 });
      const correlationData = Buffer.from([0x00, 0x01, 0xfe, 0xff]);
      await requester.publish('rpc/request', 'ping', {
        qos: 1,
        properties: { responseTopic: 'rpc/reply/me', correlationData },
      });
      const request = await responder.waitForMessage('rpc/request');
      expect(request.packet.properties?.responseTopic).toBe('rpc/reply/me');
      expect(request.packet.properties?.correlationData).toEqual(correlationData);
      await responder.publish(request.packet.properties?.responseTopic ?? '', 'pong', {
        qos: 1,
        properties: { correlationData: request.packet.properties?.correlationData },
      });
      const reply = await requester.waitForMessage('rpc/reply/me');
      expect(reply.text).toBe('pong');
      expect(reply.packet.properties?.correlationData).toEqual(correlationData);
    });

    it('forwards User Properties in their original order, repeated names included', async () => {
      const broker = await startBroker();
      const { client: subscriber } = await rawConnect(broker, { protocolVersion: 5 });
      subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'up/t', qos: 1 }] });
      await subscriber.next('suback');
      const { client: publisher } = await rawConnect(broker, { protocolVersion: 5 });
      const pairs: [string, string][] = [
        ['b', '1'],
        ['a', '2'],
        ['b', '3'],
        ['b', '3'],
        ['ünï', 'cödé'],
      ];
      const props = Buffer.concat(
        pairs.map(([k, v]) =>
          Buffer.concat([Buffer.from([PROP.userProperty]), mqttString(k), mqttString(v)]),
        ),
      );
      // Hand-built so that the wire order is exactly `pairs` (mqtt-packet groups by name).
      publisher.sendBytes(
        packet(
          0x32,
          mqttString('up/t'),
          Buffer.from([0x00, 0x01]),
          varint(props.length),
          props,
          Buffer.from('x'),
        ),
      );
      await publisher.next('puback');
      const entry = await subscriber.nextRaw('publish');
      expect(publishUserProperties(entry.raw)).toEqual(pairs);
    });

    it('forwards no properties that were not published (no invented Message Expiry, Content Type...)', async () => {
      const broker = await startBroker();
      const { client: subscriber } = await rawConnect(broker, { protocolVersion: 5 });
      subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bare', qos: 1 }] });
      await subscriber.next('suback');
      const publisher = await connectClient(broker, v5);
      await publisher.publish('bare', 'x', { qos: 1 });
      const entry = await subscriber.nextRaw('publish');
      expect(publishProperties(entry.raw)).toEqual([]);
    });
  });

  describe('Request Problem Information = 0', () => {
    mosquittoDeviates('closes the connection on an invalid filter instead of SUBACK 0x8F')(
      'sends no Reason String in a failed SUBACK',
      async () => {
        const broker = await startBroker();
        const { client } = await rawConnect(broker, {
          protocolVersion: 5,
          properties: { requestProblemInformation: false },
        });
        client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 1 }] });
        const suback = await client.next('suback');
        expect(suback.granted).toEqual([0x8f]);
        expect(suback.properties?.reasonString).toBeUndefined();
        expect(suback.properties?.userProperties).toBeUndefined();
      },
    );

    it('sends no Reason String in UNSUBACK 0x11 or PUBACK 0x10', async () => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, {
        protocolVersion: 5,
        properties: { requestProblemInformation: false },
      });
      client.send({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['never/subscribed'] });
      const unsuback = await client.next('unsuback');
      expect(unsuback.granted).toEqual([0x11]);
      expect(unsuback.properties?.reasonString).toBeUndefined();
      client.send({ ...publish('nobody/listens', 'x'), qos: 1, messageId: 2 });
      const puback = await client.next('puback');
      expect(puback.reasonCode).toBe(0x10);
      expect(puback.properties?.reasonString).toBeUndefined();
    });
  });

  describe('Maximum Packet Size', () => {
    it('advertises mqtt.maxPacketSize in CONNACK', async () => {
      const broker = await startBroker({ mqtt: { maxPacketSize: 4096 } });
      const { connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.maximumPacketSize).toBe(4096);
    });

    it('never sends a client a packet larger than its Maximum Packet Size (200): big messages are skipped', async () => {
      const broker = await startBroker();
      const { client: subscriber } = await rawConnect(broker, {
        protocolVersion: 5,
        properties: { maximumPacketSize: 200 },
      });
      subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'size/#', qos: 1 }] });
      await subscriber.next('suback');
      const publisher = await connectClient(broker, v5);
      await publisher.publish('size/big', Buffer.alloc(1024, 0x61), { qos: 1 });
      await publisher.publish('size/small', 'small', { qos: 1 });
      const small = await subscriber.nextRaw('publish');
      subscriber.ack(small.packet as IPublishPacket);
      await sleep(QUIET_MS);
      expect(subscriber.all('publish').map((p) => p.topic)).toEqual(['size/small']);
      expect(Math.max(...subscriber.received.map((e) => e.raw.length))).toBeLessThanOrEqual(200);
      expect(subscriber.closed).toBe(false);
    });
  });

  describe('CONNACK', () => {
    it('advertises mqtt.receiveMaximum as Receive Maximum', async () => {
      const broker = await startBroker({ mqtt: { receiveMaximum: 10 } });
      const { connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.receiveMaximum).toBe(10);
    });

    fluxOnly('Mosquitto cannot switch these features off')(
      'advertises Wildcard Subscription / Subscription Identifiers / Shared Subscription Available = 0 when off',
      async () => {
        const broker = await startBroker({
          mqtt: {
            wildcardSubscriptionAvailable: false,
            subscriptionIdentifiersAvailable: false,
            sharedSubscriptionAvailable: false,
          },
        });
        const { connack } = await rawConnect(broker, { protocolVersion: 5 });
        expect(connack.properties).toMatchObject({
          wildcardSubscriptionAvailable: false,
          subscriptionIdentifiersAvailable: false,
          sharedSubscriptionAvailable: false,
        });
      },
    );

    fluxOnly('Mosquitto cannot switch wildcard subscriptions off')(
      'refuses wildcard filters with SUBACK 0xA2 when mqtt.wildcardSubscriptionAvailable is false',
      async () => {
        const broker = await startBroker({ mqtt: { wildcardSubscriptionAvailable: false } });
        const { client } = await rawConnect(broker, { protocolVersion: 5 });
        client.send({
          cmd: 'subscribe',
          messageId: 1,
          subscriptions: [
            { topic: 'a/+', qos: 1 },
            { topic: 'a/#', qos: 1 },
            { topic: 'a/b', qos: 1 },
          ],
        });
        expect((await client.next('suback')).granted).toEqual([0xa2, 0xa2, 1]);
      },
    );

    fluxOnly('Mosquitto cannot switch Subscription Identifiers off')(
      'disconnects with 0xA1 a SUBSCRIBE carrying a Subscription Identifier when they are unavailable',
      async () => {
        const broker = await startBroker({ mqtt: { subscriptionIdentifiersAvailable: false } });
        const { client } = await rawConnect(broker, { protocolVersion: 5 });
        client.send({
          cmd: 'subscribe',
          messageId: 1,
          properties: { subscriptionIdentifier: 7 },
          subscriptions: [{ topic: 'a', qos: 1 }],
        });
        await client.waitForClose();
        expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0xa1]);
      },
    );

    fluxOnly('Mosquitto has no cap on the Session Expiry Interval a 5.0 client asks for')(
      'caps the Session Expiry Interval at mqtt.maxSessionExpiryInterval and says so in CONNACK',
      async () => {
        const broker = await startBroker({ mqtt: { maxSessionExpiryInterval: 10 } });
        const { connack } = await rawConnect(broker, {
          protocolVersion: 5,
          properties: { sessionExpiryInterval: 3600 },
        });
        expect(connack.properties?.sessionExpiryInterval).toBe(10);
      },
    );
  });
});
