import { describe, expect, it } from 'vitest';
import {
  QUIET_MS,
  connectClient,
  fluxOnly,
  mosquittoDeviates,
  rawConnect,
  sleep,
  startBroker,
  v311,
  v5,
  waitUntil,
} from './support';

const payloads = (n: number): string[] => Array.from({ length: n }, (_, i) => `job-${i}`);

describe('shared subscriptions', () => {
  it.each([
    ['two 5.0 members', v5, v5],
    ['a 5.0 and a 3.1.1 member', v5, v311],
  ] as const)('balances messages of $share/g/jobs between %s, each message once', async (_, va, vb) => {
    const broker = await startBroker();
    const a = await connectClient(broker, va);
    const b = await connectClient(broker, vb);
    await a.subscribe('$share/g/jobs', { qos: 1 });
    await b.subscribe('$share/g/jobs', { qos: 1 });
    const publisher = await connectClient(broker, v5);
    for (const p of payloads(4)) await publisher.publish('jobs', p, { qos: 1 });
    await waitUntil(() => a.messages.length + b.messages.length >= 4, 3000, '4 deliveries');
    await sleep(QUIET_MS);
    expect(a.messages.length).toBeGreaterThan(0);
    expect(b.messages.length).toBeGreaterThan(0);
    const all = [...a.messages, ...b.messages].map((m) => m.text).sort();
    expect(all).toEqual(payloads(4));
    // Delivered on the real topic name, not the share filter.
    expect(new Set([...a.messages, ...b.messages].map((m) => m.topic))).toEqual(new Set(['jobs']));
  });

  it('gives every group (and every plain subscriber) its own copy', async () => {
    const broker = await startBroker();
    const g1 = await connectClient(broker, v5);
    await g1.subscribe('$share/g1/jobs', { qos: 1 });
    const g2 = await connectClient(broker, v5);
    await g2.subscribe('$share/g2/+', { qos: 1 });
    const plain = await connectClient(broker, v5);
    await plain.subscribe('jobs', { qos: 1 });
    const publisher = await connectClient(broker, v5);
    for (const p of payloads(4)) await publisher.publish('jobs', p, { qos: 1 });
    for (const client of [g1, g2, plain]) {
      const messages = await client.waitForMessages(4);
      expect(messages.map((m) => m.text)).toEqual(payloads(4));
    }
  });

  mosquittoDeviates(
    "drops a departing member's in-flight messages instead of sending them to another member",
  )("redelivers a departing member's unacknowledged QoS 1 messages to the remaining member", async () => {
    const broker = await startBroker();
    const { client: leaving } = await rawConnect(broker, { protocolVersion: 5 });
    leaving.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/work', qos: 1 }] });
    await leaving.next('suback');
    const staying = await connectClient(broker, v5);
    await staying.subscribe('$share/g/work', { qos: 1 });
    const publisher = await connectClient(broker, v5);
    for (const p of payloads(4)) await publisher.publish('work', p, { qos: 1 });
    await waitUntil(
      () => leaving.all('publish').length + staying.messages.length >= 4,
      3000,
      '4 first deliveries',
    );
    expect(leaving.all('publish').length).toBeGreaterThan(0);
    leaving.destroy(); // never acknowledged anything; its session ends with the connection
    await staying.waitForMessages(4, 3000);
    expect(staying.messages.map((m) => m.text).sort()).toEqual(payloads(4));
  });

  it('stops delivering to a member that unsubscribed; the others get everything', async () => {
    const broker = await startBroker();
    const a = await connectClient(broker, v5);
    const b = await connectClient(broker, v5);
    await a.subscribe('$share/g/jobs', { qos: 1 });
    await b.subscribe('$share/g/jobs', { qos: 1 });
    await a.unsubscribe('$share/g/jobs');
    const publisher = await connectClient(broker, v5);
    for (const p of payloads(4)) await publisher.publish('jobs', p, { qos: 1 });
    await b.waitForMessages(4);
    await sleep(QUIET_MS);
    expect(a.messages).toHaveLength(0);
  });

  // MQTT 5.0 3.3.1.3: only a new *non-shared* subscription gets the retained messages.
  mosquittoDeviates('sends retained messages to a new shared subscription')(
    'does not send retained messages when a shared subscription is made',
    async () => {
      const broker = await startBroker();
      const publisher = await connectClient(broker, v5);
      await publisher.publish('jobs', 'retained', { qos: 1, retain: true });
      const member = await connectClient(broker, v5);
      await member.subscribe('$share/g/jobs', { qos: 1 });
      await sleep(QUIET_MS);
      expect(member.messages).toHaveLength(0);
      await publisher.publish('jobs', 'live', { qos: 1 });
      expect((await member.waitForMessage('jobs')).text).toBe('live');
    },
  );

  mosquittoDeviates('closes the connection instead of answering with a failure reason code')(
    'answers malformed share names ($share/g without filter, empty or wildcard group) with SUBACK 0x8F',
    async () => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: '$share/g', qos: 1 },
          { topic: '$share//t', qos: 1 },
          { topic: '$share/g+/t', qos: 1 },
          { topic: '$share/g/t', qos: 1 },
        ],
      });
      expect((await client.next('suback')).granted).toEqual([0x8f, 0x8f, 0x8f, 1]);
    },
  );

  // [MQTT-3.8.3-4]
  mosquittoDeviates('accepts it')(
    'treats No Local on a shared subscription as a protocol error (5.0)',
    async () => {
      const broker = await startBroker();
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: '$share/g/t', qos: 1, nl: true }],
      });
      await client.waitForClose();
      expect(client.all('suback')).toHaveLength(0);
      for (const d of client.all('disconnect')) expect(d.reasonCode).toBe(0x82);
    },
  );

  fluxOnly('Mosquitto cannot switch shared subscriptions off')(
    'refuses shared subscriptions with SUBACK 0x9E when mqtt.sharedSubscriptionAvailable is false',
    async () => {
      const broker = await startBroker({ mqtt: { sharedSubscriptionAvailable: false } });
      const { client, connack } = await rawConnect(broker, { protocolVersion: 5 });
      expect(connack.properties?.sharedSubscriptionAvailable).toBe(false);
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 1 }] });
      expect((await client.next('suback')).granted).toEqual([0x9e]);
    },
  );
});
