import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { run } from './processes';

export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';

export interface Load {
  /** The traceparent sent with the traced publish, and what the 5.0 subscriber received with it. */
  readonly traced: { sent: string; received: Promise<string[]> };
  stop(): Promise<void>;
}

/** Every user property of a 5.0 PUBLISH named `name` (MQTT.js gives one value or an array). */
function userProperty(packet: IPublishPacket, name: string): string[] {
  const value = packet.properties?.userProperties?.[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Traffic that gives every panel of the dashboards something to show: clients on both listeners and all
 * three protocol versions, QoS 0/1/2 both ways, a shared group, a retained message, an offline persistent
 * session with a queue, a refused CONNECT, a refused SUBSCRIBE, a takeover, a lost connection, messages
 * nobody subscribed to, mosquitto_pub publishes and one MQTT 5.0 publish with a W3C traceparent. A steady
 * publisher keeps the rates and latency quantiles non-zero until `stop()`.
 */
export async function startLoad(ports: Readonly<Record<string, number>>): Promise<Load> {
  const clients: MqttClient[] = [];
  try {
    return await drive(ports, clients);
  } catch (err) {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    throw err;
  }
}

async function drive(ports: Readonly<Record<string, number>>, clients: MqttClient[]): Promise<Load> {
  const tcp = `mqtt://127.0.0.1:${ports['tcp']}`;
  const ws = `ws://127.0.0.1:${ports['ws']}/mqtt`;
  const connect = async (url: string, options: IClientOptions): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };

  // Subscribers: 5.0 over TCP (also in a shared group), 3.1.1 over WebSocket, 3.1 over TCP.
  const sub5 = await connect(tcp, { protocolVersion: 5, clientId: 'stack-sub-v5' });
  await sub5.subscribeAsync({
    'load/#': { qos: 2 },
    '$share/workers/jobs/#': { qos: 1 },
    'trace/demo': { qos: 1 },
  });
  const sub311 = await connect(ws, { protocolVersion: 4, clientId: 'stack-sub-ws' });
  await sub311.subscribeAsync({ 'load/#': { qos: 1 }, '$share/workers/jobs/#': { qos: 1 } });
  const sub31 = await connect(tcp, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'stack-sub-v31' });
  await sub31.subscribeAsync({ 'load/q0': { qos: 0 } });

  // A refused SUBSCRIBE: more levels than mqtt.maxTopicLevels (128) allows.
  // MQTT.js rejects the promise on a failure return code; the refusal is what we want.
  await sub311
    .subscribeAsync(Array.from({ length: 130 }, () => 'deep').join('/'), { qos: 0 })
    .catch(() => undefined);

  // An offline persistent session: its QoS 1/2 messages queue while it is away.
  const offline = await connect(tcp, { protocolVersion: 4, clientId: 'stack-offline', clean: false });
  await offline.subscribeAsync('load/#', { qos: 1 });
  await offline.endAsync();

  // A refused CONNECT: a client id longer than mqtt.maxClientIdLength (256).
  await mqtt
    .connectAsync(tcp, { protocolVersion: 5, clientId: 'x'.repeat(300), reconnectPeriod: 0 })
    .then((refusedClient) => refusedClient.endAsync(true))
    .catch(() => undefined);

  // A takeover (same client id twice) and a connection lost without DISCONNECT.
  const first = await connect(tcp, { protocolVersion: 5, clientId: 'stack-dup' });
  const replaced = new Promise<void>((r) => first.once('close', () => r()));
  await connect(tcp, { protocolVersion: 5, clientId: 'stack-dup' });
  await replaced;
  const lost = await connect(tcp, { protocolVersion: 4, clientId: 'stack-lost' });
  lost.stream.destroy();

  // Retained, mosquitto_pub at each QoS, and one traced publish carrying a traceparent.
  const pub = await connect(tcp, { protocolVersion: 5, clientId: 'stack-pub' });
  await pub.publishAsync('load/retained', 'last known value', { qos: 1, retain: true });
  const cli = (args: string[]): Promise<unknown> =>
    run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(ports['tcp']), ...args], { timeoutMs: 5000 });
  await Promise.all([
    cli(['-t', 'load/mosquitto', '-m', 'qos0', '-q', '0']),
    cli(['-t', 'load/mosquitto', '-m', 'qos1', '-q', '1']),
    cli(['-t', 'load/mosquitto', '-m', 'qos2', '-q', '2', '-V', 'mqttv311']),
  ]);
  const traceId = randomBytes(16).toString('hex');
  const sent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
  const received = new Promise<string[]>((resolvePromise) => {
    sub5.on('message', (topic, _payload, packet) => {
      if (topic === 'trace/demo') resolvePromise(userProperty(packet, 'traceparent'));
    });
  });
  await cli([
    '-V',
    'mqttv5',
    '-D',
    'publish',
    'user-property',
    'traceparent',
    sent,
    '-t',
    'trace/demo',
    '-m',
    'hi',
    '-q',
    '1',
  ]);

  // The steady part: ~100 messages/s at QoS 0, 1 and 2, to the shared group and to nobody.
  let n = 0;
  const steady = setInterval(() => {
    n++;
    const payload = `message ${n}`;
    pub.publish('load/q0', payload, { qos: 0 });
    pub.publish('load/q1', payload, { qos: 1 });
    pub.publish('load/q2', payload, { qos: 2 });
    pub.publish('jobs/build', payload, { qos: 1 });
    pub.publish('nobody/listens', payload, { qos: 0 });
    if (n % 10 === 0) sub311.publish('load/from-ws', payload, { qos: 1 });
  }, 50);

  return {
    traced: { sent, received },
    stop: async () => {
      clearInterval(steady);
      await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    },
  };
}
