import type { Socket } from 'node:net';
import { defaultConfig, type ListenersConfig, type MqttConfig } from '@fluxmq/config';
import { Broker, type Logger } from '@fluxmq/engine';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startListeners, type RunningListeners } from '../src';
import { closed, CONNACK_ACCEPTED, connectPacket, mqttOverTcp, nextData, PINGREQ, PINGRESP } from './mqtt';

describe('connection limits', () => {
  let broker: Broker;
  let listeners: RunningListeners;
  let warnings: { msg: string; fields?: Record<string, unknown> }[];
  const sockets: Socket[] = [];

  async function start(
    limits: { tcp?: number; ws?: number },
    mqtt: Partial<MqttConfig> = {},
  ): Promise<RunningListeners> {
    const config = defaultConfig();
    warnings = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg, fields) => warnings.push({ msg, fields }),
      error: () => undefined,
    };
    broker = new Broker({ config: { ...config.mqtt, ...mqtt }, logger });
    const loopback = { host: '127.0.0.1', port: 0 };
    const listenersConfig: ListenersConfig = {
      ...config.listeners,
      tcp: { ...config.listeners.tcp, ...loopback, maxConnections: limits.tcp ?? 0 },
      ws: { ...config.listeners.ws, ...loopback, maxConnections: limits.ws ?? 0 },
    };
    listeners = await startListeners(broker, listenersConfig, config.mqtt.maxPacketSize);
    return listeners;
  }

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const socket of sockets.splice(0)) socket.destroy();
    await broker.close();
    await listeners.close();
  });

  /** A TCP client that got CONNACK. */
  async function connected(port: number, clientId: string): Promise<Socket> {
    const { socket, connack } = mqttOverTcp(port, clientId);
    sockets.push(socket);
    expect([...(await connack)]).toEqual(CONNACK_ACCEPTED);
    return socket;
  }

  async function alive(socket: Socket): Promise<void> {
    socket.write(PINGREQ);
    expect([...(await nextData(socket))]).toEqual(PINGRESP);
  }

  async function leave(socket: Socket): Promise<void> {
    socket.destroy();
    await expect.poll(() => broker.clients.size < 2).toBe(true);
  }

  it("closes the connection over a listener's maxConnections at accept, keeps the others, and admits again once one leaves", async () => {
    const { ports, rejected } = await start({ tcp: 2 });
    const a = await connected(ports['tcp'], 'a');
    const b = await connected(ports['tcp'], 'b');
    const refused = mqttOverTcp(ports['tcp'], 'c');
    sockets.push(refused.socket);
    await expect(refused.connack).rejects.toThrow('closed');
    await alive(a);
    await alive(b);
    // Only that listener is full: the WebSocket listener still takes connections.
    expect(await wsConnack(ports['ws'])).toEqual(CONNACK_ACCEPTED);
    expect(rejected).toEqual({ tcp: 1 });
    expect(warnings).toEqual([
      {
        msg: 'connection refused: limit reached',
        fields: expect.objectContaining({ listener: 'tcp', limit: 'listeners.tcp.maxConnections' }),
      },
    ]);
    await leave(a);
    await alive(await connected(ports['tcp'], 'd'));
  });

  it('closes the connection over mqtt.maxConnections whatever listener it comes in on', async () => {
    const { ports, rejected } = await start({}, { maxConnections: 2 });
    const a = await connected(ports['tcp'], 'a');
    const b = await connected(ports['tcp'], 'b');
    await expect(wsConnack(ports['ws'])).rejects.toThrow('closed');
    const refused = mqttOverTcp(ports['tcp'], 'c');
    sockets.push(refused.socket);
    await expect(refused.connack).rejects.toThrow('closed');
    await alive(a);
    await alive(b);
    expect(rejected).toEqual({ ws: 1, tcp: 1 });
    await leave(b);
    expect(await wsConnack(ports['ws'])).toEqual(CONNACK_ACCEPTED);
  });

  it('logs refusals at most once a second, saying how many it held back', async () => {
    const { ports, rejected } = await start({ tcp: 1 });
    await connected(ports['tcp'], 'a');
    for (let i = 0; i < 5; i++) {
      const refused = mqttOverTcp(ports['tcp'], `flood-${i}`);
      sockets.push(refused.socket);
      await closed(refused.socket);
    }
    expect(rejected['tcp']).toBe(5);
    expect(warnings).toHaveLength(1);
    // A second later the next refusal is logged again, with the count of those held back.
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 1001);
    const refused = mqttOverTcp(ports['tcp'], 'later');
    sockets.push(refused.socket);
    await closed(refused.socket);
    expect(warnings).toHaveLength(2);
    expect(warnings[1].fields).toMatchObject({ listener: 'tcp', suppressed: 4 });
  });

  /** CONNECT over ws://; resolves with CONNACK, rejects with 'closed' when the broker drops it. */
  function wsConnack(port: number): Promise<number[]> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ['mqtt']);
    return new Promise<number[]>((resolve, reject) => {
      ws.once('open', () => ws.send(connectPacket('ws-client')));
      ws.once('message', (data: Buffer) => resolve([...data]));
      ws.once('error', () => reject(new Error('closed')));
      ws.once('close', () => reject(new Error('closed')));
    }).finally(() => ws.terminate());
  }
});
