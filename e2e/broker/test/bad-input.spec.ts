import { describe, expect, it } from 'vitest';
import {
  connectClient,
  expectBrokerHealthy,
  mosquittoDeviates,
  mqttString,
  packet,
  rawConnect,
  startBroker,
  uniqueId,
  v311,
  v5,
  type ProtocolVersion,
  type RawClient,
  type TestBroker,
} from './support';

/** A connected subscriber/publisher pair that must keep working while a neighbour misbehaves. */
async function bystanders(broker: TestBroker): Promise<(label: string) => Promise<void>> {
  const subscriber = await connectClient(broker, v5);
  await subscriber.subscribe('bystander/t', { qos: 1 });
  const publisher = await connectClient(broker, v311);
  return async (label: string) => {
    await publisher.publish('bystander/t', label, { qos: 1 });
    await subscriber.waitForMessages(1, 3000, (m) => m.text === label);
    expect(subscriber.closed || publisher.closed).toBe(false);
  };
}

/** The connection was closed; a 5.0 connection got DISCONNECT `v5Reason` first, a 3.1.1 one nothing. */
async function expectClosed(client: RawClient, version: ProtocolVersion, v5Reason: number): Promise<void> {
  await client.waitForClose();
  const after = client.received.slice(1).map((e) => e.packet); // [0] is the CONNACK
  if (version === 5) {
    expect(after.map((p) => p.cmd)).toEqual(['disconnect']);
    const [disconnect] = client.all('disconnect');
    expect(disconnect.reasonCode).toBe(v5Reason);
  } else {
    expect(after).toEqual([]);
  }
}

const versions = [
  ['3.1.1', 4],
  ['5.0', 5],
] as const;

describe('malformed and hostile input', () => {
  it('closes a 3.1.1 connection sending a remaining length longer than 4 bytes', async () => {
    const broker = await startBroker();
    const exchange = await bystanders(broker);
    await exchange('before');
    const { client } = await rawConnect(broker, { protocolVersion: 4 });
    client.sendBytes(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await expectClosed(client, 4, 0);
    await exchange('after');
    await expectBrokerHealthy(broker);
  });

  // The specification allows closing without DISCONNECT here; FluxMQ promises DISCONNECT 0x81.
  mosquittoDeviates('closes without sending DISCONNECT 0x81 first (which the spec makes optional)')(
    'sends DISCONNECT 0x81 to a 5.0 connection sending a remaining length longer than 4 bytes, then closes',
    async () => {
      const broker = await startBroker();
      const exchange = await bystanders(broker);
      const { client } = await rawConnect(broker, { protocolVersion: 5 });
      client.sendBytes(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]));
      await expectClosed(client, 5, 0x81);
      await exchange('after');
      await expectBrokerHealthy(broker);
    },
  );

  it.each(versions)(
    'closes a %s connection sending a PUBLISH with QoS 3 (5.0: DISCONNECT 0x81)',
    async (_, v) => {
      const broker = await startBroker();
      const exchange = await bystanders(broker);
      const { client } = await rawConnect(broker, { protocolVersion: v });
      const properties = v === 5 ? Buffer.from([0]) : Buffer.alloc(0);
      client.sendBytes(
        packet(0x36, mqttString('a/b'), Buffer.from([0x00, 0x01]), properties, Buffer.from('x')),
      );
      await expectClosed(client, v, 0x81);
      await exchange('after');
      await expectBrokerHealthy(broker);
    },
  );

  it.each([
    ['3.1.1', 'invalid UTF-8', 4, Buffer.from([0x61, 0x2f, 0xc3, 0x28])],
    ['5.0', 'invalid UTF-8', 5, Buffer.from([0x61, 0x2f, 0xc3, 0x28])],
    ['3.1.1', 'U+0000', 4, Buffer.from([0x61, 0x00, 0x62])],
    ['5.0', 'U+0000', 5, Buffer.from([0x61, 0x00, 0x62])],
  ] as const)(
    'closes a %s connection publishing to a topic with %s (5.0: DISCONNECT 0x81)',
    async (_, _what, v, topic) => {
      const broker = await startBroker();
      const exchange = await bystanders(broker);
      const watcher = await connectClient(broker, v311);
      await watcher.subscribe('#', { qos: 0 });
      const { client } = await rawConnect(broker, { protocolVersion: v });
      const properties = v === 5 ? Buffer.from([0]) : Buffer.alloc(0);
      client.sendBytes(packet(0x30, mqttString(topic), properties, Buffer.from('x')));
      await expectClosed(client, v, 0x81);
      await exchange('after');
      expect(watcher.messages.filter((m) => m.topic !== 'bystander/t')).toEqual([]);
    },
  );

  it.each(versions)(
    'closes a %s connection sending a packet above mqtt.maxPacketSize (5.0: DISCONNECT 0x95)',
    async (_, v) => {
      const broker = await startBroker({ mqtt: { maxPacketSize: 1024 } });
      const exchange = await bystanders(broker);
      const { client } = await rawConnect(broker, { protocolVersion: v });
      client.send({
        cmd: 'publish',
        topic: 'big',
        payload: Buffer.alloc(2048, 0x62),
        qos: 0,
        dup: false,
        retain: false,
      });
      await expectClosed(client, v, 0x95);
      await exchange('after');
      await expectBrokerHealthy(broker);
    },
  );

  it('accepts a packet of exactly mqtt.maxPacketSize bytes', async () => {
    const broker = await startBroker({ mqtt: { maxPacketSize: 1024 } });
    const subscriber = await connectClient(broker, v311);
    await subscriber.subscribe('fit', { qos: 0 });
    const { client } = await rawConnect(broker, { protocolVersion: 4 });
    // 1 + 2 (remaining length 1021) + 2 + 3 ('fit') + 1016 payload = 1024 bytes
    const bytes = packet(0x30, mqttString('fit'), Buffer.alloc(1016, 0x63));
    expect(bytes.length).toBe(1024);
    client.sendBytes(bytes);
    expect((await subscriber.waitForMessage('fit')).payload.length).toBe(1016);
    expect(client.closed).toBe(false);
  });

  it('closes a connection announcing a 200 MB packet at once, without waiting for the body', async () => {
    const broker = await startBroker({ mqtt: { maxPacketSize: 1048576 } });
    const exchange = await bystanders(broker);
    const { client } = await rawConnect(broker, { protocolVersion: 5 });
    client.sendBytes(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64])); // remaining length 200 * 2^21
    await client.waitForClose(2000);
    for (const d of client.all('disconnect')) expect(d.reasonCode).toBe(0x95);
    await exchange('after');
  });

  it.each([
    ['reserved packet type 0', Buffer.from([0x00, 0x00])],
    ['AUTH (type 15) from a 3.1.1 client', Buffer.from([0xf0, 0x00])],
    [
      'SUBSCRIBE with fixed header flags 0000',
      packet(0x80, Buffer.from([0x00, 0x01]), mqttString('a'), Buffer.from([0])),
    ],
    ['SUBSCRIBE without any topic filter', packet(0x82, Buffer.from([0x00, 0x01]))],
    ['PUBREL with fixed header flags 0000', Buffer.from([0x60, 0x02, 0x00, 0x01])],
    ['CONNACK (a server-to-client packet)', Buffer.from([0x20, 0x02, 0x00, 0x00])],
  ])('closes a 3.1.1 connection sending %s', async (_, bytes) => {
    const broker = await startBroker();
    const exchange = await bystanders(broker);
    const { client } = await rawConnect(broker, { protocolVersion: 4 });
    client.sendBytes(bytes);
    await expectClosed(client, 4, 0);
    await exchange('after');
  });

  it('survives random garbage and a truncated packet from clients', async () => {
    const broker = await startBroker();
    const exchange = await bystanders(broker);
    for (let i = 0; i < 5; i++) {
      const { client } = await rawConnect(broker, { protocolVersion: 4, clientId: uniqueId('garbage') });
      const garbage = Buffer.from(Array.from({ length: 64 }, (_, j) => (i * 131 + j * 197 + 17) % 256));
      client.sendBytes(garbage);
      client.end();
    }
    const { client: truncated } = await rawConnect(broker, { protocolVersion: 4 });
    truncated.sendBytes(packet(0x30, mqttString('cut/topic'), Buffer.alloc(100)).subarray(0, 50));
    truncated.end();
    await truncated.waitForClose();
    await exchange('after');
    await expectBrokerHealthy(broker);
  });
});
