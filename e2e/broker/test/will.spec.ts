import { describe, expect, it } from 'vitest';
import type { IConnectPacket } from 'mqtt-packet';
import {
  QUIET_MS,
  RawClient,
  connectClient,
  mosquittoDeviates,
  sleep,
  startBroker,
  uniqueId,
  v311,
  v5,
  type TestBroker,
  type TestClient,
} from './support';

const versions = [
  ['3.1.1', v311],
  ['5.0', v5],
] as const;

type Will = NonNullable<IConnectPacket['will']>;

function will(topic = 'will/t', extra: Partial<Will> = {}): Will {
  return { topic, payload: Buffer.from('gone'), qos: 1, retain: false, ...extra };
}

async function watch(broker: TestBroker, filter = 'will/#'): Promise<TestClient> {
  const watcher = await connectClient(broker, v5);
  await watcher.subscribe(filter, { qos: 2 });
  return watcher;
}

describe('will messages', () => {
  it.each(versions)('is not published after a normal DISCONNECT (%s)', async (_, version) => {
    const broker = await startBroker();
    const watcher = await watch(broker);
    const client = await connectClient(broker, { ...version, will: will() });
    await client.disconnect();
    await sleep(QUIET_MS);
    expect(watcher.messages).toHaveLength(0);
  });

  it.each(versions)('is published when the %s connection is lost without DISCONNECT', async (_, version) => {
    const broker = await startBroker();
    const watcher = await watch(broker);
    const client = await connectClient(broker, { ...version, will: will() });
    await client.kill();
    const message = await watcher.waitForMessage('will/t');
    expect(message.text).toBe('gone');
  });

  // 3.1.1 section 3.1.2.5 / 5.0 section 3.1.2.5: a connection the server closes for a protocol error.
  mosquittoDeviates('does not publish the will of a client closed for sending a second CONNECT')(
    'is published when the broker closes the connection for a protocol error (second CONNECT)',
    async () => {
      const broker = await startBroker();
      const watcher = await watch(broker);
      const raw = await RawClient.open(broker, { protocolVersion: 4 });
      await raw.connect({ will: will() });
      raw.send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: uniqueId(),
        keepalive: 0,
      });
      await raw.waitForClose();
      expect((await watcher.waitForMessage('will/t')).text).toBe('gone');
    },
  );

  it('is published on a 5.0 DISCONNECT with reason code 0x04 (Disconnect with Will Message)', async () => {
    const broker = await startBroker();
    const watcher = await watch(broker);
    const client = await connectClient(broker, { ...v5, will: will() });
    await client.disconnect({ reasonCode: 0x04 });
    expect((await watcher.waitForMessage('will/t')).text).toBe('gone');
  });

  it('honours the will QoS and RETAIN: later subscribers get the retained will', async () => {
    const broker = await startBroker();
    const watcher = await watch(broker);
    const client = await connectClient(broker, {
      ...v311,
      will: will('will/status', { qos: 1, retain: true }),
    });
    await client.kill();
    const live = await watcher.waitForMessage('will/status');
    expect(live.packet.qos).toBe(1);
    expect(live.packet.retain).toBe(false);

    const later = await connectClient(broker, v311);
    await later.subscribe('will/status', { qos: 2 });
    const retained = await later.waitForMessage('will/status');
    expect(retained.text).toBe('gone');
    expect(retained.packet.retain).toBe(true);
    expect(retained.packet.qos).toBe(1);
  });

  it('delivers a QoS 0 will at QoS 0 and does not retain a will without RETAIN', async () => {
    const broker = await startBroker();
    const watcher = await watch(broker);
    const client = await connectClient(broker, { ...v311, will: will('will/q0', { qos: 0 }) });
    await client.kill();
    expect((await watcher.waitForMessage('will/q0')).packet.qos).toBe(0);
    const later = await connectClient(broker, v311);
    await later.subscribe('will/q0', { qos: 2 });
    await sleep(QUIET_MS);
    expect(later.messages).toHaveLength(0);
  });

  it('forwards the will properties of a 5.0 client', async () => {
    const broker = await startBroker();
    const watcher = await watch(broker);
    const client = await connectClient(broker, {
      ...v5,
      will: will('will/props', {
        properties: {
          contentType: 'text/plain',
          responseTopic: 'will/reply',
          correlationData: Buffer.from('c0ffee', 'hex'),
          payloadFormatIndicator: true,
          userProperties: { reason: 'test' },
        },
      }),
    });
    await client.kill();
    const message = await watcher.waitForMessage('will/props');
    expect(message.packet.properties).toMatchObject({
      contentType: 'text/plain',
      responseTopic: 'will/reply',
      correlationData: Buffer.from('c0ffee', 'hex'),
      payloadFormatIndicator: true,
      userProperties: { reason: 'test' },
    });
  });

  describe('Will Delay Interval (5.0)', () => {
    it('publishes the will only after the Will Delay Interval (1 s)', async () => {
      const broker = await startBroker();
      const watcher = await watch(broker);
      const client = await connectClient(broker, {
        ...v5,
        properties: { sessionExpiryInterval: 10 },
        will: will('will/t', { properties: { willDelayInterval: 1 } }),
      });
      const lostAt = Date.now();
      await client.kill();
      await sleep(500);
      expect(watcher.messages).toHaveLength(0);
      await watcher.waitForMessage('will/t', 3000);
      expect(Date.now() - lostAt).toBeGreaterThanOrEqual(900);
    });

    it('does not publish the will when the client reconnects within the delay', async () => {
      const broker = await startBroker();
      const watcher = await watch(broker);
      const clientId = uniqueId();
      const options = {
        ...v5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 10 },
        will: will('will/t', { properties: { willDelayInterval: 1 } }),
      };
      const client = await connectClient(broker, options);
      await client.kill();
      await sleep(200);
      const back = await connectClient(broker, { ...options, will: undefined });
      expect(back.connack.sessionPresent).toBe(true);
      await sleep(1500);
      expect(watcher.messages).toHaveLength(0);
    });

    it('publishes the will when the session ends before the Will Delay Interval', async () => {
      const broker = await startBroker();
      const watcher = await watch(broker);
      const client = await connectClient(broker, {
        ...v5,
        properties: { sessionExpiryInterval: 1 },
        will: will('will/t', { properties: { willDelayInterval: 30 } }),
      });
      await client.kill();
      await watcher.waitForMessage('will/t', 3500);
    });
  });
});
