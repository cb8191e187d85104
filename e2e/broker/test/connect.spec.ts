import { describe, expect, it } from 'vitest';
import {
  RawClient,
  connectBytes,
  connectClient,
  fluxOnly,
  mosquittoDeviates,
  packet,
  sleep,
  startBroker,
  uniqueId,
  v31,
  v311,
  v5,
} from './support';

describe('CONNECT', () => {
  it.each([
    ['3.1.1', v311, 4],
    ['5.0', v5, 5],
    ['3.1 (MQIsdp)', v31, 3],
  ] as const)('accepts an MQTT %s client that can then publish and subscribe', async (_, version, level) => {
    const broker = await startBroker();
    const client = await connectClient(broker, { ...version });
    expect(client.connack.sessionPresent).toBe(false);
    expect(level === 5 ? client.connack.reasonCode : client.connack.returnCode).toBe(0);
    await client.subscribe('hello/world', { qos: 1 });
    await client.publish('hello/world', `from level ${level}`, { qos: 1 });
    const message = await client.waitForMessage('hello/world');
    expect(message.text).toBe(`from level ${level}`);
  });

  it('refuses an unsupported protocol level from a 3.1.1-style client with return code 1 and closes', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    raw.sendBytes(connectBytes({ level: 2 }));
    await raw.waitForClose();
    expect(raw.received.map((e) => e.raw.toString('hex'))).toEqual(['20020001']);
  });

  mosquittoDeviates('answers every unknown level with a 3.1.1-format CONNACK, return code 1')(
    'refuses an unsupported (future) protocol level with a 5.0 CONNACK 0x84 and closes',
    async () => {
      const broker = await startBroker();
      const raw = await RawClient.open(broker, { protocolVersion: 5 });
      raw.sendBytes(connectBytes({ level: 6, withProperties: true }));
      const connack = await raw.next('connack');
      expect(connack.reasonCode).toBe(0x84);
      expect(connack.sessionPresent).toBe(false);
      await raw.waitForClose();
      expect(raw.all('connack')).toHaveLength(1);
    },
  );

  it('closes a 3.1.1 connection whose CONNECT has the reserved flag set, without CONNACK', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    raw.sendBytes(connectBytes({ level: 4, flags: 0x03 }));
    await raw.waitForClose();
    expect(raw.received).toHaveLength(0);
  });

  it('closes a 5.0 connection whose CONNECT has the reserved flag set (at most a CONNACK 0x81 first)', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 5 });
    raw.sendBytes(connectBytes({ level: 5, flags: 0x03 }));
    await raw.waitForClose();
    for (const { packet: p } of raw.received) {
      expect(p.cmd).toBe('connack');
      if (p.cmd === 'connack') expect(p.reasonCode).toBe(0x81);
    }
  });

  it.each([
    ['PINGREQ', packet(0xc0)],
    ['SUBSCRIBE', packet(0x82, Buffer.from([0x00, 0x01, 0x00, 0x01, 0x61, 0x00]))],
    ['PUBLISH', packet(0x30, Buffer.from([0x00, 0x01, 0x61]), Buffer.from('x'))],
  ])(
    'closes a connection whose first packet is %s instead of CONNECT, without answering',
    async (_, bytes) => {
      const broker = await startBroker();
      const raw = await RawClient.open(broker);
      raw.sendBytes(bytes);
      await raw.waitForClose();
      expect(raw.received).toHaveLength(0);
    },
  );

  it('closes a 3.1.1 connection that sends a second CONNECT', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    const connack = await raw.connect({ clientId: uniqueId() });
    expect(connack.returnCode).toBe(0);
    raw.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: uniqueId(),
      keepalive: 0,
    });
    await raw.waitForClose();
    expect(raw.all('connack')).toHaveLength(1);
  });

  it('closes a 5.0 connection that sends a second CONNECT (DISCONNECT 0x82 allowed first)', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 5 });
    expect((await raw.connect()).reasonCode).toBe(0);
    raw.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      clientId: uniqueId(),
      keepalive: 0,
    });
    await raw.waitForClose();
    expect(raw.all('connack')).toHaveLength(1);
    for (const d of raw.all('disconnect')) expect(d.reasonCode).toBe(0x82);
  });

  it('refuses an empty client id with clean session = 0 in 3.1.1 (return code 2) and closes', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    raw.sendBytes(connectBytes({ level: 4, flags: 0x00, clientId: '' }));
    const connack = await raw.next('connack');
    expect(connack.returnCode).toBe(2);
    expect(connack.sessionPresent).toBe(false);
    await raw.waitForClose();
  });

  it('accepts an empty client id with clean session = 1 in 3.1.1', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4 });
    raw.sendBytes(connectBytes({ level: 4, flags: 0x02, clientId: '' }));
    const connack = await raw.next('connack');
    expect(connack.returnCode).toBe(0);
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'anon/t', qos: 0 }] });
    expect((await raw.next('suback')).granted).toEqual([0]);
    raw.send({
      cmd: 'publish',
      topic: 'anon/t',
      payload: Buffer.from('hi'),
      qos: 0,
      dup: false,
      retain: false,
    });
    const publish = await raw.next('publish');
    expect(publish.payload.toString()).toBe('hi');
  });

  it('assigns a client identifier to a 5.0 client with an empty id, and the id resumes the session', async () => {
    const broker = await startBroker();
    const first = await RawClient.open(broker, { protocolVersion: 5 });
    const connack = await first.connect({ clientId: '', properties: { sessionExpiryInterval: 60 } });
    expect(connack.reasonCode).toBe(0);
    const assigned = connack.properties?.assignedClientIdentifier;
    expect(typeof assigned).toBe('string');
    expect(assigned?.length).toBeGreaterThan(0);
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'assigned/t', qos: 1 }] });
    expect((await first.next('suback')).granted).toEqual([1]);
    first.send({ cmd: 'disconnect' });
    await first.waitForClose();

    const publisher = await connectClient(broker, v5);
    await publisher.publish('assigned/t', 'while away', { qos: 1 });
    const again = await connectClient(broker, {
      ...v5,
      clientId: assigned,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    expect(again.connack.sessionPresent).toBe(true);
    expect(again.connack.properties?.assignedClientIdentifier).toBeUndefined();
    expect((await again.waitForMessage('assigned/t')).text).toBe('while away');
  });

  fluxOnly('Mosquitto has no client id length limit setting')(
    'refuses a 5.0 client id longer than mqtt.maxClientIdLength with CONNACK 0x85',
    async () => {
      const broker = await startBroker({ mqtt: { maxClientIdLength: 8 } });
      const raw = await RawClient.open(broker, { protocolVersion: 5 });
      const connack = await raw.connect({ clientId: '123456789' });
      expect(connack.reasonCode).toBe(0x85);
      await raw.waitForClose();
    },
  );

  fluxOnly('Mosquitto has no client id length limit setting')(
    'refuses a 3.1.1 client id longer than mqtt.maxClientIdLength with return code 2',
    async () => {
      const broker = await startBroker({ mqtt: { maxClientIdLength: 8 } });
      const raw = await RawClient.open(broker, { protocolVersion: 4 });
      const connack = await raw.connect({ clientId: '123456789' });
      expect(connack.returnCode).toBe(2);
      await raw.waitForClose();
    },
  );

  fluxOnly('Mosquitto has no client id length limit setting')(
    'accepts a client id exactly mqtt.maxClientIdLength long',
    async () => {
      const broker = await startBroker({ mqtt: { maxClientIdLength: 8 } });
      const raw = await RawClient.open(broker, { protocolVersion: 5 });
      expect((await raw.connect({ clientId: '12345678' })).reasonCode).toBe(0);
    },
  );

  fluxOnly('Mosquitto has no connect timeout setting')(
    'closes a socket that sends no CONNECT within mqtt.connectTimeoutMs',
    async () => {
      const broker = await startBroker({ mqtt: { connectTimeoutMs: 300 } });
      const raw = await RawClient.open(broker);
      await raw.waitForClose(1500);
      const after = (raw.closedAt ?? 0) - raw.openedAt;
      expect(after).toBeGreaterThanOrEqual(250);
      expect(raw.received).toHaveLength(0);
    },
  );

  fluxOnly('Mosquitto has no connect timeout setting')(
    'keeps a socket that sent CONNECT in time open past mqtt.connectTimeoutMs',
    async () => {
      const broker = await startBroker({ mqtt: { connectTimeoutMs: 300 } });
      const raw = await RawClient.open(broker);
      expect((await raw.connect()).returnCode).toBe(0);
      await sleep(600);
      expect(raw.closed).toBe(false);
      raw.send({ cmd: 'pingreq' });
      await raw.next('pingresp');
    },
  );
});
