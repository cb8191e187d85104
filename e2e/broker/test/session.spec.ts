import { describe, expect, it } from 'vitest';
import {
  QUIET_MS,
  RawClient,
  connectClient,
  fluxOnly,
  mosquittoDeviates,
  sleep,
  startBroker,
  uniqueId,
  v311,
  v5,
  type TestBroker,
} from './support';

/** Connects a persistent subscriber, subscribes `filter`, disconnects normally; returns its client id. */
async function parkSubscriber(
  broker: TestBroker,
  version: typeof v311 | typeof v5,
  filter: string,
  qos: 0 | 1 | 2,
): Promise<string> {
  const clientId = uniqueId('parked');
  const persistent = version.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {};
  const subscriber = await connectClient(broker, { ...version, clientId, clean: false, ...persistent });
  await subscriber.subscribe(filter, { qos });
  await subscriber.disconnect();
  return clientId;
}

describe('sessions', () => {
  describe('3.1.1 clean session', () => {
    it('reports session present = 0 for a new persistent session and 1 when resuming it', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const first = await connectClient(broker, { ...v311, clientId, clean: false });
      expect(first.connack.sessionPresent).toBe(false);
      await first.disconnect();
      const second = await connectClient(broker, { ...v311, clientId, clean: false });
      expect(second.connack.sessionPresent).toBe(true);
    });

    it('keeps subscriptions of a clean = 0 session across connections', async () => {
      const broker = await startBroker();
      const clientId = await parkSubscriber(broker, v311, 'keep/#', 1);
      const resumed = await connectClient(broker, { ...v311, clientId, clean: false });
      const publisher = await connectClient(broker, v311);
      await publisher.publish('keep/a', 'still subscribed', { qos: 1 });
      expect((await resumed.waitForMessage('keep/a')).text).toBe('still subscribed');
    });

    it('discards the previous session when clean = 1: session present 0, no subscriptions left', async () => {
      const broker = await startBroker();
      const clientId = await parkSubscriber(broker, v311, 'gone/#', 1);
      const clean = await connectClient(broker, { ...v311, clientId, clean: true });
      expect(clean.connack.sessionPresent).toBe(false);
      const publisher = await connectClient(broker, v311);
      await publisher.publish('gone/a', 'nobody listens', { qos: 1 });
      await sleep(QUIET_MS);
      expect(clean.messages).toHaveLength(0);
      await clean.disconnect();
      // And the clean session did not survive either.
      const after = await connectClient(broker, { ...v311, clientId, clean: false });
      expect(after.connack.sessionPresent).toBe(false);
    });
  });

  describe('5.0 clean start and session expiry', () => {
    it('resumes a session with Clean Start = 0 within its expiry: session present = 1, subscriptions kept', async () => {
      const broker = await startBroker();
      const clientId = await parkSubscriber(broker, v5, 'keep5/#', 1);
      const resumed = await connectClient(broker, {
        ...v5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 60 },
      });
      expect(resumed.connack.sessionPresent).toBe(true);
      const publisher = await connectClient(broker, v5);
      await publisher.publish('keep5/x', 'kept', { qos: 1 });
      expect((await resumed.waitForMessage('keep5/x')).text).toBe('kept');
    });

    it('ends the session at disconnect when Session Expiry Interval is 0 (absent)', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const first = await connectClient(broker, { ...v5, clientId, clean: false });
      await first.subscribe('short/#', { qos: 1 });
      await first.disconnect();
      const second = await connectClient(broker, { ...v5, clientId, clean: false });
      expect(second.connack.sessionPresent).toBe(false);
    });

    it('keeps a session with Session Expiry Interval 2 s while it has not expired', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const first = await connectClient(broker, {
        ...v5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 2 },
      });
      await first.subscribe('exp/#', { qos: 1 });
      await first.disconnect();
      await sleep(500);
      const publisher = await connectClient(broker, v5);
      await publisher.publish('exp/a', 'queued', { qos: 1 });
      const second = await connectClient(broker, { ...v5, clientId, clean: false });
      expect(second.connack.sessionPresent).toBe(true);
      expect((await second.waitForMessage('exp/a')).text).toBe('queued');
    });

    it('discards a session once its Session Expiry Interval (1 s) has passed', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const first = await connectClient(broker, {
        ...v5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 1 },
      });
      await first.subscribe('exp/#', { qos: 1 });
      await first.disconnect();
      await sleep(2200);
      const second = await connectClient(broker, { ...v5, clientId, clean: false });
      expect(second.connack.sessionPresent).toBe(false);
      const publisher = await connectClient(broker, v5);
      await publisher.publish('exp/a', 'nobody', { qos: 1 });
      await sleep(QUIET_MS);
      expect(second.messages).toHaveLength(0);
    });

    it('applies the Session Expiry Interval sent in DISCONNECT (1 s raised to 60 s: still there after 1.5 s)', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const first = await connectClient(broker, {
        ...v5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 1 },
      });
      await first.subscribe('longer/#', { qos: 1 });
      await first.disconnect({ reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
      await sleep(1500);
      const second = await connectClient(broker, { ...v5, clientId, clean: false });
      expect(second.connack.sessionPresent).toBe(true);
    });
  });

  describe('client id takeover', () => {
    mosquittoDeviates('2.0.11 closes the old connection without sending DISCONNECT 0x8E')(
      'sends the old 5.0 connection DISCONNECT 0x8E (Session taken over) and closes it',
      async () => {
        const broker = await startBroker();
        const clientId = uniqueId();
        const old = await RawClient.open(broker, { protocolVersion: 5 });
        expect((await old.connect({ clientId })).reasonCode).toBe(0);
        const fresh = await connectClient(broker, { ...v5, clientId });
        await old.waitForClose();
        expect(old.all('disconnect').map((d) => d.reasonCode)).toEqual([0x8e]);
        expect(fresh.closed).toBe(false);
        await fresh.subscribe('still/here', { qos: 0 });
      },
    );

    it('closes the old 5.0 connection when the same client id connects again', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const old = await connectClient(broker, { ...v5, clientId });
      const fresh = await connectClient(broker, { ...v5, clientId });
      await old.waitForClose();
      expect(fresh.closed).toBe(false);
      await fresh.subscribe('still/here', { qos: 0 });
    });

    it('closes the old 3.1.1 connection when the same client id connects again', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const old = await RawClient.open(broker, { protocolVersion: 4 });
      expect((await old.connect({ clientId })).returnCode).toBe(0);
      const fresh = await connectClient(broker, { ...v311, clientId });
      await old.waitForClose();
      expect(old.received.map((e) => e.packet.cmd)).toEqual(['connack']);
      expect(fresh.closed).toBe(false);
    });

    it('hands the persistent session over to the new connection (session present = 1)', async () => {
      const broker = await startBroker();
      const clientId = uniqueId();
      const old = await connectClient(broker, { ...v311, clientId, clean: false });
      await old.subscribe('handover/#', { qos: 1 });
      const fresh = await connectClient(broker, { ...v311, clientId, clean: false });
      expect(fresh.connack.sessionPresent).toBe(true);
      await old.waitForClose();
      const publisher = await connectClient(broker, v311);
      await publisher.publish('handover/x', 'to the new one', { qos: 1 });
      expect((await fresh.waitForMessage('handover/x')).text).toBe('to the new one');
    });
  });

  describe('offline queue', () => {
    it.each([
      ['3.1.1', v311],
      ['5.0', v5],
    ] as const)(
      'delivers QoS 1 and QoS 2 messages published while a %s session was offline',
      async (_, version) => {
        const broker = await startBroker();
        const clientId = await parkSubscriber(broker, version, 'offline/#', 2);
        const publisher = await connectClient(broker, version);
        await publisher.publish('offline/q1', 'one', { qos: 1 });
        await publisher.publish('offline/q2', 'two', { qos: 2 });
        const back = await connectClient(broker, { ...version, clientId, clean: false });
        expect(back.connack.sessionPresent).toBe(true);
        const messages = await back.waitForMessages(2);
        expect(messages.map((m) => [m.topic, m.text, m.packet.qos])).toEqual([
          ['offline/q1', 'one', 1],
          ['offline/q2', 'two', 2],
        ]);
      },
    );

    it('does not queue QoS 0 messages for an offline session by default', async () => {
      const broker = await startBroker();
      const clientId = await parkSubscriber(broker, v311, 'q0/#', 1);
      const publisher = await connectClient(broker, v311);
      await publisher.publish('q0/a', 'qos0', { qos: 0 });
      await publisher.publish('q0/b', 'qos1', { qos: 1 });
      const back = await connectClient(broker, { ...v311, clientId, clean: false });
      await back.waitForMessage('q0/b');
      await sleep(100);
      expect(back.messages.map((m) => m.text)).toEqual(['qos1']);
    });

    it('queues QoS 0 messages for an offline session when mqtt.queueQos0 is set', async () => {
      const broker = await startBroker({ mqtt: { queueQos0: true } });
      const clientId = await parkSubscriber(broker, v311, 'q0/#', 1);
      const publisher = await connectClient(broker, v311);
      await publisher.publish('q0/a', 'qos0', { qos: 0 });
      await publisher.publish('q0/b', 'qos1', { qos: 1 });
      const back = await connectClient(broker, { ...v311, clientId, clean: false });
      const messages = await back.waitForMessages(2);
      expect(messages.map((m) => [m.text, m.packet.qos])).toEqual([
        ['qos0', 0],
        ['qos1', 1],
      ]);
    });

    it('keeps the first mqtt.maxQueuedMessages messages with queueOverflow drop-new', async () => {
      const broker = await startBroker({ mqtt: { maxQueuedMessages: 3, queueOverflow: 'drop-new' } });
      const clientId = await parkSubscriber(broker, v311, 'bounded', 1);
      const publisher = await connectClient(broker, v311);
      for (let i = 1; i <= 6; i++) await publisher.publish('bounded', `m${i}`, { qos: 1 });
      const back = await connectClient(broker, { ...v311, clientId, clean: false });
      await back.waitForMessages(3);
      await sleep(QUIET_MS);
      expect(back.messages.map((m) => m.text)).toEqual(['m1', 'm2', 'm3']);
    });

    fluxOnly('Mosquitto can only drop new messages')(
      'keeps the last mqtt.maxQueuedMessages messages with queueOverflow drop-oldest',
      async () => {
        const broker = await startBroker({ mqtt: { maxQueuedMessages: 3, queueOverflow: 'drop-oldest' } });
        const clientId = await parkSubscriber(broker, v311, 'bounded', 1);
        const publisher = await connectClient(broker, v311);
        for (let i = 1; i <= 6; i++) await publisher.publish('bounded', `m${i}`, { qos: 1 });
        const back = await connectClient(broker, { ...v311, clientId, clean: false });
        await back.waitForMessages(3);
        await sleep(QUIET_MS);
        expect(back.messages.map((m) => m.text)).toEqual(['m4', 'm5', 'm6']);
      },
    );
  });
});
