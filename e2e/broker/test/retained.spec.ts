import { describe, expect, it } from 'vitest';
import { QUIET_MS, connectClient, rawConnect, sleep, startBroker, v311, v5 } from './support';

const versions = [
  ['3.1.1', v311],
  ['5.0', v5],
] as const;

describe('retained messages', () => {
  it.each(versions)(
    'delivers a retained message to a later %s subscriber with RETAIN = 1',
    async (_, version) => {
      const broker = await startBroker();
      const publisher = await connectClient(broker, version);
      await publisher.publish('ret/a', 'kept', { qos: 1, retain: true });
      const subscriber = await connectClient(broker, version);
      await subscriber.subscribe('ret/a', { qos: 1 });
      const message = await subscriber.waitForMessage('ret/a');
      expect(message.text).toBe('kept');
      expect(message.packet.retain).toBe(true);
      expect(message.packet.qos).toBe(1);
    },
  );

  it('forwards a retained publish to existing subscribers with RETAIN = 0', async () => {
    const broker = await startBroker();
    const subscriber = await connectClient(broker, v311);
    await subscriber.subscribe('ret/live', { qos: 1 });
    const publisher = await connectClient(broker, v311);
    await publisher.publish('ret/live', 'now', { qos: 1, retain: true });
    expect((await subscriber.waitForMessage('ret/live')).packet.retain).toBe(false);
  });

  it('replaces the retained message of a topic with the newer one', async () => {
    const broker = await startBroker();
    const publisher = await connectClient(broker, v311);
    await publisher.publish('ret/a', 'first', { qos: 1, retain: true });
    await publisher.publish('ret/a', 'second', { qos: 1, retain: true });
    const subscriber = await connectClient(broker, v311);
    await subscriber.subscribe('ret/a', { qos: 1 });
    await subscriber.waitForMessages(1);
    await sleep(QUIET_MS);
    expect(subscriber.messages.map((m) => m.text)).toEqual(['second']);
  });

  it('clears the retained message of a topic with an empty retained payload', async () => {
    const broker = await startBroker();
    const publisher = await connectClient(broker, v311);
    await publisher.publish('ret/a', 'doomed', { qos: 1, retain: true });
    await publisher.publish('ret/b', 'survivor', { qos: 1, retain: true });
    await publisher.publish('ret/a', '', { qos: 1, retain: true });
    const subscriber = await connectClient(broker, v311);
    await subscriber.subscribe('ret/+', { qos: 1 });
    await subscriber.waitForMessage('ret/b');
    await sleep(QUIET_MS);
    expect(subscriber.messages.map((m) => [m.topic, m.text])).toEqual([['ret/b', 'survivor']]);
  });

  it('delivers every matching retained message to a wildcard subscription', async () => {
    const broker = await startBroker();
    const publisher = await connectClient(broker, v311);
    await publisher.publish('house/kitchen/temp', '21', { qos: 0, retain: true });
    await publisher.publish('house/garage/temp', '12', { qos: 1, retain: true });
    await publisher.publish('house/garage/door', 'open', { qos: 2, retain: true });
    const subscriber = await connectClient(broker, v311);
    await subscriber.subscribe('house/+/temp', { qos: 2 });
    const messages = await subscriber.waitForMessages(2);
    await sleep(QUIET_MS);
    expect(subscriber.messages).toHaveLength(2);
    const byTopic = Object.fromEntries(
      messages.map((m) => [m.topic, [m.text, m.packet.qos, m.packet.retain]]),
    );
    expect(byTopic).toEqual({
      'house/kitchen/temp': ['21', 0, true],
      'house/garage/temp': ['12', 1, true],
    });
  });

  it('delivers a retained message at the lower of its QoS and the subscription QoS', async () => {
    const broker = await startBroker();
    const publisher = await connectClient(broker, v311);
    await publisher.publish('ret/q', 'q2', { qos: 2, retain: true });
    const subscriber = await connectClient(broker, v311);
    await subscriber.subscribe('ret/q', { qos: 1 });
    expect((await subscriber.waitForMessage('ret/q')).packet.qos).toBe(1);
  });

  it('does not deliver a retained message whose Message Expiry Interval (1 s) has passed (5.0)', async () => {
    const broker = await startBroker();
    const publisher = await connectClient(broker, v5);
    await publisher.publish('ret/short', 'expires', {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 1 },
    });
    await publisher.publish('ret/long', 'stays', {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 60 },
    });
    await sleep(2100);
    const subscriber = await connectClient(broker, v5);
    await subscriber.subscribe('ret/+', { qos: 1 });
    const long = await subscriber.waitForMessage('ret/long');
    expect(long.packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(58);
    await sleep(QUIET_MS);
    expect(subscriber.messagesOn('ret/short')).toHaveLength(0);
  });

  it('advertises Retain Available = 0 and refuses retained publishes with DISCONNECT 0x9A when retain is off', async () => {
    const broker = await startBroker({ mqtt: { retainAvailable: false } });
    const { client, connack } = await rawConnect(broker, { protocolVersion: 5 });
    expect(connack.properties?.retainAvailable).toBe(false);
    client.send({
      cmd: 'publish',
      topic: 'ret/x',
      payload: Buffer.from('x'),
      qos: 0,
      dup: false,
      retain: true,
    });
    await client.waitForClose();
    expect(client.all('disconnect').map((d) => d.reasonCode)).toEqual([0x9a]);
  });
});
