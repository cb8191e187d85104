import { describe, expect, it } from 'vitest';
import { RawClient, connectClient, fluxOnly, isMosquitto, sleep, startBroker, uniqueId, v5 } from './support';

/**
 * Upper bound on how long after 1.5 x keep alive the broker may take to close the connection. Mosquitto
 * 2.0.11 only checks keep alive every few seconds (a 1 s keep alive client is closed after ~5.5 s): a
 * deviation from [MQTT-3.1.2-24], tolerated in mosquitto mode so that the rest of these tests still runs.
 */
const CLOSE_DEADLINE_MS = isMosquitto ? 8000 : 3000;

/** Connection lifetime measured from the CONNACK, in ms. */
function lifetime(raw: RawClient): number {
  const connack = raw.received.find((e) => e.packet.cmd === 'connack');
  return (raw.closedAt ?? Date.now()) - (connack?.at ?? raw.openedAt);
}

describe('keep alive', () => {
  it.each([4, 5] as const)('answers PINGREQ with PINGRESP (protocol level %i)', async (protocolVersion) => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion });
    await raw.connect({ keepalive: 30 });
    raw.send({ cmd: 'pingreq' });
    const entry = await raw.nextRaw('pingresp');
    expect(entry.raw.toString('hex')).toBe('d000');
  });

  it('closes a silent 3.1.1 client after 1.5 x its keep alive of 1 s, without sending anything', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({ keepalive: 1 });
    await raw.waitForClose(CLOSE_DEADLINE_MS);
    expect(lifetime(raw)).toBeGreaterThanOrEqual(1000);
    expect(lifetime(raw)).toBeLessThan(CLOSE_DEADLINE_MS);
    expect(raw.received.map((e) => e.packet.cmd)).toEqual(['connack']);
  });

  it('closes a silent 5.0 client after 1.5 x its keep alive of 1 s (DISCONNECT 0x8D allowed first)', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 5 });
    await raw.connect({ keepalive: 1 });
    await raw.waitForClose(CLOSE_DEADLINE_MS);
    expect(lifetime(raw)).toBeGreaterThanOrEqual(1000);
    expect(lifetime(raw)).toBeLessThan(CLOSE_DEADLINE_MS);
    const after = raw.received.slice(1).map((e) => e.packet);
    for (const p of after) {
      expect(p.cmd).toBe('disconnect');
      if (p.cmd === 'disconnect') expect(p.reasonCode).toBe(0x8d);
    }
  });

  it('publishes the will of a client that timed out on keep alive', async () => {
    const broker = await startBroker();
    const watcher = await connectClient(broker, v5);
    await watcher.subscribe('ka/will', { qos: 1 });
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({
      keepalive: 1,
      will: { topic: 'ka/will', payload: Buffer.from('timed out'), qos: 1, retain: false },
    });
    const will = await watcher.waitForMessage('ka/will', CLOSE_DEADLINE_MS);
    expect(will.text).toBe('timed out');
    expect(raw.closed).toBe(true);
  });

  it('keeps a client alive that sends PINGREQ within its keep alive', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({ keepalive: 1 });
    for (let i = 0; i < 5; i++) {
      await sleep(500);
      raw.send({ cmd: 'pingreq' });
    }
    await raw.waitForCount('pingresp', 5);
    expect(raw.closed).toBe(false);
  });

  it('counts any control packet, not only PINGREQ, as keep-alive activity', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    await raw.connect({ keepalive: 1 });
    for (let i = 0; i < 5; i++) {
      await sleep(500);
      raw.send({
        cmd: 'publish',
        topic: 'ka/busy',
        payload: Buffer.from(String(i)),
        qos: 0,
        dup: false,
        retain: false,
      });
    }
    expect(raw.closed).toBe(false);
    raw.send({ cmd: 'pingreq' });
    await raw.next('pingresp');
  });

  it('sends Server Keep Alive in the 5.0 CONNACK when the client asks more than mqtt.maxKeepAlive', async () => {
    const broker = await startBroker({ mqtt: { maxKeepAlive: 10 } });
    const client = await connectClient(broker, { ...v5, keepalive: 60, clientId: uniqueId() });
    expect(client.connack.properties?.serverKeepAlive).toBe(10);
  });

  fluxOnly('Mosquitto refuses max_keepalive below 10 s, too slow for this suite')(
    'enforces the Server Keep Alive it granted instead of the longer one asked for',
    async () => {
      const broker = await startBroker({ mqtt: { maxKeepAlive: 1 } });
      const raw = await RawClient.open(broker, { protocolVersion: 5 });
      const connack = await raw.connect({ keepalive: 60 });
      expect(connack.properties?.serverKeepAlive).toBe(1);
      await raw.waitForClose(CLOSE_DEADLINE_MS);
      expect(lifetime(raw)).toBeGreaterThanOrEqual(1000);
    },
  );
});
