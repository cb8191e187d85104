import { connect as mqttConnect } from 'mqtt';
import type {
  IClientOptions,
  IClientPublishOptions,
  IClientUnsubscribeProperties,
  IClientSubscribeOptions,
  IConnackPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscriptionGrant,
  ISubscriptionMap,
  MqttClient,
  Packet,
} from 'mqtt';
import type { TestBroker } from './broker';
import { onCleanup } from './cleanup';
import { waitUntil, withTimeout } from './wait';

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  /** The payload decoded as UTF-8. */
  text: string;
  packet: IPublishPacket;
}

/** MQTT.js options minus reconnection, which tests never want (a reconnect would hide a broker bug). */
export type ClientOptions = Omit<IClientOptions, 'reconnectPeriod'>;

export type Transport = 'tcp' | 'ws';

let counter = 0;
/** A client id unique within the run, readable in broker logs. */
export function uniqueId(prefix = 'c'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/**
 * A connected MQTT.js client with promise wrappers, recording every message it receives (with the packet)
 * and the DISCONNECT a 5.0 broker sent, if any.
 */
export class TestClient {
  readonly messages: ReceivedMessage[] = [];
  readonly received: Packet[] = [];
  readonly errors: Error[] = [];
  disconnectPacket: IDisconnectPacket | undefined;
  closed = false;
  connack!: IConnackPacket;
  private readonly unregister: () => void;

  private constructor(
    readonly mqtt: MqttClient,
    readonly clientId: string,
  ) {
    mqtt.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, text: payload.toString('utf8'), packet });
    });
    mqtt.on('packetreceive', (packet) => this.received.push(packet));
    mqtt.on('disconnect', (packet) => {
      this.disconnectPacket = packet;
    });
    mqtt.on('close', () => {
      this.closed = true;
    });
    mqtt.on('error', (err) => this.errors.push(err));
    this.unregister = onCleanup(`mqtt client ${clientId}`, () => this.dispose());
  }

  /** Connects and resolves once CONNACK accepted the connection; rejects on refusal, close or timeout. */
  static async connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const clientId = options.clientId ?? uniqueId();
    const client = mqttConnect(url, {
      clientId,
      connectTimeout: 5000,
      ...options,
      reconnectPeriod: 0,
    });
    const wrapper = new TestClient(client, clientId);
    try {
      wrapper.connack = await withTimeout(
        new Promise<IConnackPacket>((resolve, reject) => {
          client.once('connect', resolve);
          client.once('error', reject);
          client.once('close', () => reject(new Error(`connection of ${clientId} closed before CONNACK`)));
        }),
        6000,
        `CONNACK for ${clientId}`,
      );
    } catch (err) {
      await wrapper.dispose();
      throw err;
    }
    return wrapper;
  }

  subscribe(
    filter: string | string[] | ISubscriptionMap,
    options: IClientSubscribeOptions = { qos: 0 },
  ): Promise<ISubscriptionGrant[]> {
    return withTimeout(
      this.mqtt.subscribeAsync(filter, options),
      5000,
      `SUBACK for ${JSON.stringify(filter)}`,
    );
  }

  unsubscribe(
    filter: string | string[],
    properties?: IClientUnsubscribeProperties['properties'],
  ): Promise<Packet | undefined> {
    return withTimeout(
      this.mqtt.unsubscribeAsync(filter, properties ? { properties } : undefined),
      5000,
      `UNSUBACK for ${JSON.stringify(filter)}`,
    );
  }

  /** Resolves when the publish is handed over (QoS 0) or acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP). */
  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = {}): Promise<void> {
    await withTimeout(this.mqtt.publishAsync(topic, payload, options), 5000, `publish to ${topic}`);
  }

  /** Waits until at least `n` messages (optionally only those matching `match`) arrived; returns them. */
  async waitForMessages(
    n: number,
    timeoutMs = 3000,
    match: (m: ReceivedMessage) => boolean = () => true,
  ): Promise<ReceivedMessage[]> {
    const selected = (): ReceivedMessage[] => this.messages.filter(match);
    try {
      await waitUntil(() => selected().length >= n, timeoutMs, `${n} message(s) at ${this.clientId}`);
    } catch (err) {
      const got = selected().map((m) => `${m.topic}=${m.text.slice(0, 40)}`);
      const shown = got.length > 10 ? [...got.slice(0, 10), `... ${got.length - 10} more`] : got;
      throw new Error(`${(err as Error).message}; got ${got.length}: ${shown.join(', ')}`, { cause: err });
    }
    return selected();
  }

  /** Waits for the first message on `topic` and returns it. */
  async waitForMessage(topic: string, timeoutMs = 3000): Promise<ReceivedMessage> {
    const [message] = await this.waitForMessages(1, timeoutMs, (m) => m.topic === topic);
    return message;
  }

  messagesOn(topic: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async waitForClose(timeoutMs = 3000): Promise<void> {
    await waitUntil(() => this.closed, timeoutMs, `close of ${this.clientId}`);
  }

  /** Normal disconnection: sends DISCONNECT (with the given 5.0 reason code/properties) and closes. */
  async disconnect(packet: Partial<IDisconnectPacket> = {}): Promise<void> {
    this.unregister();
    if (this.closed) return;
    await withTimeout(this.mqtt.endAsync(false, packet), 3000, `graceful end of ${this.clientId}`).catch(
      async () => {
        await this.mqtt.endAsync(true);
      },
    );
  }

  /** Abrupt loss of the connection: the socket is destroyed without DISCONNECT (the will fires). */
  async kill(): Promise<void> {
    this.unregister();
    if (this.closed) {
      await this.mqtt.endAsync(true);
      return;
    }
    const closed = new Promise<void>((resolve) => this.mqtt.once('close', () => resolve()));
    this.mqtt.stream.destroy();
    await withTimeout(closed, 3000, `close of ${this.clientId}`);
    await this.mqtt.endAsync(true);
  }

  private async dispose(): Promise<void> {
    if (!this.mqtt.disconnected && !this.closed) {
      await withTimeout(this.mqtt.endAsync(false), 1000, 'end').catch(() => undefined);
    }
    await this.mqtt.endAsync(true).catch(() => undefined);
  }
}

export interface ConnectOptions extends ClientOptions {
  transport?: Transport;
}

/** Connects an MQTT.js client to the test broker (TCP unless `transport: 'ws'`). */
export function connectClient(broker: TestBroker, options: ConnectOptions = {}): Promise<TestClient> {
  const { transport = 'tcp', ...rest } = options;
  return TestClient.connect(transport === 'ws' ? broker.wsUrl : broker.tcpUrl, rest);
}

export const v5 = { protocolVersion: 5 } as const;
export const v311 = { protocolVersion: 4 } as const;
export const v31 = { protocolVersion: 3, protocolId: 'MQIsdp' } as const;

/** Normalises the Subscription Identifier property (one number, or an array when repeated) to an array. */
export function subscriptionIds(packet: IPublishPacket): number[] {
  const ids = packet.properties?.subscriptionIdentifier;
  if (ids === undefined) return [];
  return (Array.isArray(ids) ? ids : [ids]).slice().sort((a, b) => a - b);
}
