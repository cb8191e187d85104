import { createConnection } from 'node:net';
import {
  generate,
  parser as createParser,
  type IConnackPacket,
  type IConnectPacket,
  type Packet,
  type PacketCmd,
} from 'mqtt-packet';
import WebSocket from 'ws';
import type { TestBroker } from './broker';
import { onCleanup } from './cleanup';
import { readFixedHeader } from './frames';
import { uniqueId } from './mqtt-client';
import { waitUntil } from './wait';

export type ProtocolVersion = 3 | 4 | 5;
export type PacketOf<C extends PacketCmd> = Extract<Packet, { cmd: C }>;

export interface RawPacket {
  packet: Packet;
  /** The packet's exact bytes as received. */
  raw: Buffer;
  /** Date.now() when it was framed. */
  at: number;
}

export interface RawOptions {
  /** Version used to generate and parse packets (3 = 3.1, 4 = 3.1.1, 5 = 5.0). Default 4. */
  protocolVersion?: ProtocolVersion;
  transport?: 'tcp' | 'ws';
  /** WebSocket subprotocols to offer (default: 'mqttv3.1' for version 3, else 'mqtt'). */
  wsProtocols?: string[];
}

interface Wire {
  write(data: Buffer): void;
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
}

/**
 * A hand-driven MQTT connection over a plain socket (or a WebSocket): sends generated or hand-crafted bytes,
 * frames what comes back into packets (keeping the raw bytes), never acknowledges anything by itself.
 */
export class RawClient {
  readonly received: RawPacket[] = [];
  readonly errors: string[] = [];
  readonly openedAt = Date.now();
  closed = false;
  closedAt: number | undefined;
  /** Bytes received in total (also those not yet framed). */
  bytesReceived = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly consumed = new WeakSet<RawPacket>();
  private parser: ReturnType<typeof createParser>;
  private wire: Wire | undefined;
  private readonly unregister: () => void;
  readonly protocolVersion: ProtocolVersion;

  constructor(protocolVersion: ProtocolVersion = 4) {
    this.protocolVersion = protocolVersion;
    this.parser = this.newParser();
    this.unregister = onCleanup('raw client', () => this.destroy());
  }

  static async open(broker: TestBroker, options: RawOptions = {}): Promise<RawClient> {
    const client = new RawClient(options.protocolVersion ?? 4);
    if (options.transport === 'ws') await client.attachWebSocket(broker.wsUrl, options.wsProtocols);
    else await client.attachTcp(broker.host, broker.tcpPort);
    return client;
  }

  private newParser(): ReturnType<typeof createParser> {
    const p = createParser({ protocolVersion: this.protocolVersion });
    p.on('error', (err: unknown) => {
      this.errors.push(`parse: ${err instanceof Error ? err.message : String(err)}`);
    });
    return p;
  }

  private attachTcp(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host, port });
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.errors.push(`socket: ${err.message}`));
        resolve();
      });
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('close', () => this.onClose());
      this.wire = {
        write: (data) => {
          if (!socket.destroyed) socket.write(data);
        },
        end: () => socket.end(),
        destroy: () => socket.destroy(),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
      };
    });
  }

  private attachWebSocket(url: string, protocols?: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols ?? [this.protocolVersion === 3 ? 'mqttv3.1' : 'mqtt']);
      ws.binaryType = 'nodebuffer';
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', (err) => this.errors.push(`ws: ${err.message}`));
        resolve();
      });
      ws.once('error', reject);
      ws.on('message', (data: Buffer) => this.onData(data));
      ws.on('close', () => this.onClose());
      this.wire = {
        write: (data) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(data);
        },
        end: () => ws.close(),
        destroy: () => ws.terminate(),
        pause: () => ws.pause(),
        resume: () => ws.resume(),
      };
    });
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let header;
      try {
        header = readFixedHeader(this.buffer);
      } catch (err) {
        this.errors.push((err as Error).message);
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (!header) return;
      const total = header.headerLength + header.remainingLength;
      if (this.buffer.length < total) return;
      const raw = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      const parsed: Packet[] = [];
      const onPacket = (p: Packet): void => {
        parsed.push(p);
      };
      this.parser.on('packet', onPacket);
      this.parser.parse(raw);
      this.parser.off('packet', onPacket);
      if (parsed.length === 0) {
        // mqtt-packet rejected it: keep the bytes, start a fresh parser for what follows.
        this.parser = this.newParser();
        this.errors.push(`unparsable packet 0x${raw.toString('hex', 0, Math.min(raw.length, 16))}`);
        continue;
      }
      for (const packet of parsed) this.received.push({ packet, raw, at: Date.now() });
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closedAt = Date.now();
  }

  /** Generates `packet` for this client's protocol version and writes it. */
  send(packet: Packet): void {
    this.sendBytes(generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Writes hand-crafted bytes (one WebSocket frame per call on WebSocket transport). */
  sendBytes(bytes: Buffer): void {
    if (!this.wire) throw new Error('raw client not connected');
    this.wire.write(bytes);
  }

  /** Sends CONNECT (defaults: clean, keep alive 0, a unique client id) and returns the CONNACK. */
  async connect(fields: Partial<IConnectPacket> = {}, timeoutMs = 3000): Promise<IConnackPacket> {
    const connectPacket: IConnectPacket = {
      cmd: 'connect',
      protocolId: this.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.protocolVersion,
      clean: true,
      clientId: uniqueId('raw'),
      keepalive: 0,
      ...fields,
    };
    this.send(connectPacket);
    return this.next('connack', timeoutMs);
  }

  /** The first not yet consumed packet of kind `cmd` (waiting for it); marks it consumed. */
  async next<C extends PacketCmd>(cmd: C, timeoutMs = 3000): Promise<PacketOf<C>> {
    const entry = await this.nextRaw(cmd, timeoutMs);
    return entry.packet as PacketOf<C>;
  }

  /** Like `next`, returning the raw entry (bytes and arrival time). */
  async nextRaw(cmd: PacketCmd, timeoutMs = 3000): Promise<RawPacket> {
    const find = (): RawPacket | undefined =>
      this.received.find((e) => e.packet.cmd === cmd && !this.consumed.has(e));
    let found: RawPacket | undefined;
    try {
      await waitUntil(
        () => {
          found = find();
          return found !== undefined || this.closed;
        },
        timeoutMs,
        `${cmd}`,
      );
    } catch {
      throw new Error(`no ${cmd} within ${timeoutMs} ms; received: ${this.describe()}`);
    }
    found ??= find();
    if (!found) throw new Error(`connection closed while waiting for ${cmd}; received: ${this.describe()}`);
    this.consumed.add(found);
    return found;
  }

  /** Every packet of kind `cmd` received so far (consumed or not). */
  all<C extends PacketCmd>(cmd: C): PacketOf<C>[] {
    return this.received.filter((e) => e.packet.cmd === cmd).map((e) => e.packet as PacketOf<C>);
  }

  /** Waits until `n` packets of kind `cmd` have been received in total. */
  async waitForCount(cmd: PacketCmd, n: number, timeoutMs = 3000): Promise<void> {
    try {
      await waitUntil(() => this.all(cmd).length >= n, timeoutMs, `${n} ${cmd}`);
    } catch {
      throw new Error(`expected ${n} ${cmd} within ${timeoutMs} ms, got ${this.all(cmd).length}`);
    }
  }

  describe(): string {
    const kinds = this.received.map((e) => {
      const p = e.packet;
      const code = 'reasonCode' in p && p.reasonCode !== undefined ? `(0x${p.reasonCode.toString(16)})` : '';
      return `${p.cmd}${code}`;
    });
    return `[${kinds.join(', ')}]${this.closed ? ' then closed' : ''}`;
  }

  /** Waits until the broker closed the connection; throws if it is still open after `timeoutMs`. */
  async waitForClose(timeoutMs = 3000): Promise<void> {
    try {
      await waitUntil(() => this.closed, timeoutMs, 'close');
    } catch {
      throw new Error(`connection still open after ${timeoutMs} ms; received: ${this.describe()}`);
    }
  }

  /** Acknowledges a received QoS 1 (PUBACK) or QoS 2 (PUBREC) PUBLISH. */
  ack(publish: PacketOf<'publish'>): void {
    if (publish.qos === 1) this.send({ cmd: 'puback', messageId: publish.messageId });
    else if (publish.qos === 2) this.send({ cmd: 'pubrec', messageId: publish.messageId });
  }

  /** Stops reading from the socket: the kernel buffers fill up and the broker sees back-pressure. */
  pause(): void {
    this.wire?.pause();
  }

  resume(): void {
    this.wire?.resume();
  }

  /** Closes the connection without DISCONNECT (for the broker: a lost connection). */
  destroy(): void {
    this.unregister();
    this.wire?.destroy();
  }

  /** Half-closes after pending writes (FIN). */
  end(): void {
    this.wire?.end();
  }
}

/** CONNACK's return code (3.1.x) or reason code (5.0). */
export function connackCode(connack: IConnackPacket): number | undefined {
  return connack.reasonCode ?? connack.returnCode;
}

/**
 * Opens a raw connection and completes CONNECT/CONNACK, failing unless the broker accepted it. The protocol
 * version of the connection is `fields.protocolVersion` (default 4 = 3.1.1).
 */
export async function rawConnect(
  broker: TestBroker,
  fields: Partial<IConnectPacket> = {},
  options: Omit<RawOptions, 'protocolVersion'> = {},
): Promise<{ client: RawClient; connack: IConnackPacket }> {
  const client = await RawClient.open(broker, { ...options, protocolVersion: fields.protocolVersion ?? 4 });
  const connack = await client.connect(fields);
  if (connackCode(connack) !== 0) throw new Error(`CONNACK refused with code ${connackCode(connack)}`);
  return { client, connack };
}
