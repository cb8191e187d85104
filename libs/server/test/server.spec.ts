import { createServer } from 'node:net';
import { loadConfig } from '@fluxmq/config';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerServer, type BrokerServer } from '../src';

const quiet = {
  log: { level: 'silent' as const },
  sys: { enabled: false },
  persistence: { enabled: false },
};
const local = { tcp: { host: '127.0.0.1', port: 0 }, ws: { host: '127.0.0.1', port: 0 } };

describe('startBrokerServer', () => {
  let server: BrokerServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('binds TCP and WebSocket on the ports the OS picks and carries messages between them', async () => {
    server = await startBrokerServer(loadConfig({ env: {}, overrides: { ...quiet, listeners: local } }));
    expect(server.ports.tcp).toBeGreaterThan(0);
    expect(server.ports.ws).toBeGreaterThan(0);
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports.tcp}`, { protocolVersion: 5 });
    const pub = await mqtt.connectAsync(`ws://127.0.0.1:${server.ports.ws}/mqtt`, { protocolVersion: 4 });
    await sub.subscribeAsync('smoke/#', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.on('message', (t, p) => resolve(`${t}=${p}`)));
    await pub.publishAsync('smoke/a', 'hello', { qos: 1 });
    expect(await got).toBe('smoke/a=hello');
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });

  it('fails with the listener and address when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const config = loadConfig({
      env: {},
      overrides: { ...quiet, listeners: { tcp: { host: '127.0.0.1', port }, ws: { enabled: false } } },
    });
    await expect(startBrokerServer(config)).rejects.toThrow(
      `tcp listener cannot listen on 127.0.0.1:${port}`,
    );
    blocker.close();
  });

  it('contains an exception thrown while handling a packet to that one connection', async () => {
    const authorizer = {
      canPublish: () => true,
      canSubscribe: (_c: unknown, filter: string) => {
        if (filter === 'boom') throw new Error('hook bug');
        return true;
      },
    };
    server = await startBrokerServer(loadConfig({ env: {}, overrides: { ...quiet, listeners: local } }), {
      hooks: { authorizer },
    });
    const url = `mqtt://127.0.0.1:${server.ports.tcp}`;
    const good = await mqtt.connectAsync(url, { protocolVersion: 5 });
    const bad = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
    const disconnect = new Promise<number | undefined>((r) => bad.once('disconnect', (p) => r(p.reasonCode)));
    bad.subscribe('boom');
    expect(await disconnect).toBe(0x83);
    await good.subscribeAsync('still/works');
    const got = new Promise<string>((r) => good.once('message', (_t, p) => r(p.toString())));
    await good.publishAsync('still/works', 'yes');
    expect(await got).toBe('yes');
    await Promise.all([good.endAsync(), bad.endAsync(true)]);
  });

  it('disconnects a client by id on an administrator’s request, with reason 0x98', async () => {
    server = await startBrokerServer(loadConfig({ env: {}, overrides: { ...quiet, listeners: local } }));
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports.tcp}`, {
      clientId: 'to-kick',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const reason = new Promise<number | undefined>((r) => client.once('disconnect', (p) => r(p.reasonCode)));
    expect(server.broker.kick('to-kick')).toBe(true);
    expect(await reason).toBe(0x98);
    expect(server.broker.kick('nobody')).toBe(false);
    await client.endAsync(true);
  });
});
