import { describe, expect, it } from 'vitest';
import { generate } from 'mqtt-packet';
import WebSocket from 'ws';
import {
  RawClient,
  connectClient,
  fluxOnly,
  onCleanup,
  startBroker,
  uniqueId,
  v31,
  v311,
  v5,
  withTimeout,
} from './support';

/** Opens a bare WebSocket; resolves with the negotiated subprotocol, or rejects with the HTTP status. */
function handshake(url: string, protocols: string[]): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      onCleanup('websocket', () => ws.terminate());
      ws.once('open', () => {
        resolve(ws.protocol);
        ws.close();
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    }),
    3000,
    `WebSocket handshake with ${url}`,
  );
}

describe('MQTT over WebSocket', () => {
  it('negotiates the "mqtt" subprotocol on the /mqtt path', async () => {
    const broker = await startBroker();
    expect(broker.wsPort).toBeGreaterThan(0);
    expect(await handshake(broker.wsUrl, ['mqtt'])).toBe('mqtt');
  });

  it('negotiates the "mqttv3.1" subprotocol for MQTT 3.1 clients', async () => {
    const broker = await startBroker();
    expect(await handshake(broker.wsUrl, ['mqttv3.1'])).toBe('mqttv3.1');
  });

  it.each([
    ['5.0', v5],
    ['3.1.1', v311],
    ['3.1', v31],
  ] as const)(
    'connects an MQTT.js %s client over ws:// and lets it publish and subscribe',
    async (_, version) => {
      const broker = await startBroker();
      const client = await connectClient(broker, { ...version, transport: 'ws' });
      await client.subscribe('ws/echo', { qos: 1 });
      await client.publish('ws/echo', 'over websocket', { qos: 1 });
      expect((await client.waitForMessage('ws/echo')).text).toBe('over websocket');
    },
  );

  it('routes messages from a TCP publisher to a WebSocket subscriber', async () => {
    const broker = await startBroker();
    const wsSubscriber = await connectClient(broker, { ...v5, transport: 'ws' });
    await wsSubscriber.subscribe('bridge/#', { qos: 2 });
    const tcpPublisher = await connectClient(broker, v311);
    await tcpPublisher.publish('bridge/to-ws', 'from tcp', { qos: 2 });
    const message = await wsSubscriber.waitForMessage('bridge/to-ws');
    expect([message.text, message.packet.qos]).toEqual(['from tcp', 2]);
  });

  it('routes messages from a WebSocket publisher to a TCP subscriber', async () => {
    const broker = await startBroker();
    const tcpSubscriber = await connectClient(broker, v5);
    await tcpSubscriber.subscribe('bridge/#', { qos: 1 });
    const wsPublisher = await connectClient(broker, { ...v311, transport: 'ws' });
    await wsPublisher.publish('bridge/to-tcp', 'from ws', { qos: 1, retain: true });
    expect((await tcpSubscriber.waitForMessage('bridge/to-tcp')).text).toBe('from ws');
    // And the retained message is there for a later TCP subscriber too.
    const later = await connectClient(broker, v311);
    await later.subscribe('bridge/to-tcp', { qos: 1 });
    expect((await later.waitForMessage('bridge/to-tcp')).packet.retain).toBe(true);
  });

  it('accepts MQTT packets split across WebSocket frames and several packets in one frame', async () => {
    const broker = await startBroker();
    const raw = await RawClient.open(broker, { protocolVersion: 4, transport: 'ws' });
    const connect = generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: uniqueId('ws'),
      keepalive: 0,
    });
    raw.sendBytes(connect.subarray(0, 5));
    raw.sendBytes(connect.subarray(5));
    expect((await raw.next('connack')).returnCode).toBe(0);
    raw.sendBytes(
      Buffer.concat([
        generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'frames/t', qos: 0 }] }),
        generate({ cmd: 'pingreq' }),
      ]),
    );
    await raw.next('suback');
    await raw.next('pingresp');
  });

  it('publishes the will of a WebSocket client whose connection drops', async () => {
    const broker = await startBroker();
    const watcher = await connectClient(broker, v311);
    await watcher.subscribe('ws/will', { qos: 1 });
    const raw = await RawClient.open(broker, { protocolVersion: 4, transport: 'ws' });
    await raw.connect({ will: { topic: 'ws/will', payload: Buffer.from('ws gone'), qos: 1, retain: false } });
    raw.destroy();
    expect((await watcher.waitForMessage('ws/will')).text).toBe('ws gone');
  });

  fluxOnly('Mosquitto serves MQTT on every path of a websockets listener')(
    'rejects the WebSocket handshake on a path other than listeners.ws.path',
    async () => {
      const broker = await startBroker();
      const wrong = broker.wsUrl.replace(/\/mqtt$/, '/not-mqtt');
      await expect(handshake(wrong, ['mqtt'])).rejects.toThrow(/HTTP 4\d\d/);
      // The right path still works.
      expect(await handshake(broker.wsUrl, ['mqtt'])).toBe('mqtt');
    },
  );

  fluxOnly('Mosquitto serves MQTT on every path of a websockets listener')(
    'serves MQTT on a custom listeners.ws.path',
    async () => {
      const broker = await startBroker({ listeners: { ws: { path: '/custom/ws' } } });
      expect(broker.wsUrl.endsWith('/custom/ws')).toBe(true);
      const client = await connectClient(broker, { ...v5, transport: 'ws' });
      expect(client.connack.reasonCode).toBe(0);
      await expect(handshake(broker.wsUrl.replace('/custom/ws', '/mqtt'), ['mqtt'])).rejects.toThrow(
        /HTTP 4\d\d/,
      );
    },
  );
});
