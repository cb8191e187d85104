import { defaultConfig, type ListenersConfig } from '@fluxmq/config';
import { Broker } from '@fluxmq/engine';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startListeners, type RunningListeners } from '../src';

// CONNECT for MQTT 3.1.1, client id "ws", clean session, keep alive 0.
const CONNECT = Buffer.from([
  0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00, 0x00, 0x02, 0x77, 0x73,
]);

describe('WebSocket listener', () => {
  let broker: Broker;
  let listeners: RunningListeners;

  async function start(ws: Partial<ListenersConfig['ws']> = {}): Promise<string> {
    const config = defaultConfig();
    broker = new Broker({ config: config.mqtt });
    listeners = await startListeners(
      broker,
      {
        ...config.listeners,
        tcp: { ...config.listeners.tcp, enabled: false },
        ws: { ...config.listeners.ws, host: '127.0.0.1', port: 0, ...ws },
      },
      config.mqtt.maxPacketSize,
    );
    return `ws://127.0.0.1:${listeners.ports['ws']}`;
  }

  afterEach(async () => {
    await broker.close();
    await listeners.close();
  });

  function open(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
    const ws = new WebSocket(url, protocols, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  it('selects the mqtt subprotocol, or mqttv3.1 for old clients', async () => {
    const url = await start();
    const a = await open(`${url}/mqtt`, ['mqtt']);
    const b = await open(`${url}/mqtt`, ['mqttv3.1']);
    expect([a.protocol, b.protocol]).toEqual(['mqtt', 'mqttv3.1']);
    a.close();
    b.close();
  });

  it('answers MQTT carried in binary frames, even when a packet spans frames', async () => {
    const ws = await open(`${await start()}/mqtt`, ['mqtt']);
    const connack = new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    ws.send(CONNECT.subarray(0, 5));
    ws.send(CONNECT.subarray(5));
    expect([...(await connack)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    ws.close();
  });

  it('answers the packets of one read in one binary frame', async () => {
    const ws = await open(`${await start()}/mqtt`, ['mqtt']);
    const messages: Buffer[] = [];
    ws.on('message', (d: Buffer) => messages.push(d));
    ws.send(CONNECT);
    await until(() => messages.length === 1);
    ws.send(Buffer.from([0xc0, 0x00, 0xc0, 0x00, 0xc0, 0x00])); // three PINGREQs in one frame
    await until(() => messages.length > 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // would any other frame follow?
    expect(messages.slice(1).map((m) => [...m])).toEqual([[0xd0, 0x00, 0xd0, 0x00, 0xd0, 0x00]]);
    ws.close();
  });

  it('closes a connection that sends a text frame', async () => {
    const ws = await open(`${await start()}/mqtt`, ['mqtt']);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('not mqtt');
    expect(await closed).toBe(1003);
  });

  it('rejects an upgrade on another path', async () => {
    const url = await start();
    await expect(open(`${url}/other`, ['mqtt'])).rejects.toThrow(/400/);
    const res = await fetch(`http:${url.slice(3)}/mqtt`);
    expect(res.status).toBe(426);
  });

  it('admits only allowed Origins (403 for others), and clients that send no Origin', async () => {
    const url = `${await start({ allowedOrigins: ['https://app.example.com', 'http://localhost:3000'] })}/mqtt`;
    const allowed = await open(url, ['mqtt'], { origin: 'https://app.example.com' });
    const sameButCased = await open(url, ['mqtt'], { origin: 'HTTP://LOCALHOST:3000' });
    const noOrigin = await open(url, ['mqtt']);
    await expect(open(url, ['mqtt'], { origin: 'https://evil.example.com' })).rejects.toThrow(/403/);
    await expect(open(url, ['mqtt'], { origin: 'https://app.example.com:8443' })).rejects.toThrow(/403/);
    for (const ws of [allowed, sameButCased, noOrigin]) ws.close();
  });

  it('admits any Origin when allowedOrigins is empty', async () => {
    const ws = await open(`${await start()}/mqtt`, ['mqtt'], { origin: 'https://anywhere.example' });
    ws.close();
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}
