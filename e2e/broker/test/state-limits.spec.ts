import { describe, expect } from 'vitest';
import { QUIET_MS, connectClient, fluxOnly, sleep, startBroker, uniqueId, v311, v5 } from './support';

// Caps on the state clients can make the broker keep: without them, a client inventing client ids or
// topics grows the broker's memory (and database) without bound.

const it = fluxOnly('FluxMQ limits (mqtt.maxSessions, mqtt.maxRetainedMessages)');

describe('state limits', () => {
  it('refuses a CONNECT that needs a new session beyond mqtt.maxSessions, and resumes existing ones', async () => {
    const broker = await startBroker({ mqtt: { maxSessions: 2 } });
    const persistent = { ...v5, clean: false, properties: { sessionExpiryInterval: 60 } };
    const a = await connectClient(broker, { ...persistent, clientId: uniqueId('a') });
    await a.disconnect(); // offline sessions count too
    await connectClient(broker, { ...persistent, clientId: uniqueId('b') });
    await expect(connectClient(broker, { ...v5, clientId: uniqueId('c') })).rejects.toThrow(/Quota exceeded/);
    await expect(connectClient(broker, { ...v311, clientId: uniqueId('d') })).rejects.toThrow(/unavailable/i);
    const resumed = await connectClient(broker, { ...persistent, clientId: a.clientId });
    expect(resumed.connack.sessionPresent).toBe(true);
  });

  it('stops storing retained messages for new topics at mqtt.maxRetainedMessages, still delivering them', async () => {
    const broker = await startBroker({ mqtt: { maxRetainedMessages: 2 } });
    const live = await connectClient(broker, v5);
    await live.subscribe('r/#', { qos: 1 });
    const publisher = await connectClient(broker, v5);
    for (const topic of ['r/1', 'r/2', 'r/3'])
      await publisher.publish(topic, topic, { qos: 1, retain: true });
    await publisher.publish('r/1', 'r/1 updated', { qos: 1, retain: true }); // an existing topic may change
    await live.waitForMessages(4);
    const late = await connectClient(broker, v5);
    await late.subscribe('r/#', { qos: 1 });
    await late.waitForMessages(2);
    await sleep(QUIET_MS);
    expect(late.messages.map((m) => m.text).sort()).toEqual(['r/1 updated', 'r/2']);
    expect(broker.engine!.stats.retainedRefused).toBe(1);
  });
});
