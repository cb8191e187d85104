import { connect as netConnect, type Socket } from 'node:net';
import { CONNACK, PUBREL, SUBACK, connectPacket, subscribePacket } from './packets';

/**
 * Called once per complete incoming packet. `body` is where the variable header starts and `end`
 * where the packet ends; `buf` is only valid during the call.
 */
export type PacketHandler = (type: number, flags: number, buf: Buffer, body: number, end: number) => void;

export interface ConnectOptions {
  host: string;
  port: number;
  clientId: string;
  keepalive?: number;
  /** false: a persistent session (3.1.1 clean session 0), which the broker keeps across disconnects. */
  clean?: boolean;
  /** Source address, to spread very many connections over several 127.0.0.x. */
  localAddress?: string;
  timeoutMs?: number;
}

const ACK_BUFFER = 16 * 1024;

/**
 * One receive buffer for every client. With `onread`, Node reads into it and calls back synchronously
 * before the next read, so sharing is safe; it skips the Readable-stream machinery, which costs more per
 * read than framing the packets in it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * A bare MQTT 3.1.1 client on a net.Socket: a framer that splits the byte stream into packets and hands
 * them to `onPacket` without decoding, plus batched 4-byte acks. MQTT.js would cost more CPU per message
 * than the brokers under test, so the load generator would measure itself.
 */
export class RawClient {
  onPacket: PacketHandler | null = null;
  private pending: Buffer | null = null;
  private readonly acks = Buffer.allocUnsafe(ACK_BUFFER);
  private ackLength = 0;
  private readonly waiters = new Map<number, (buf: Buffer, body: number) => void>();

  readonly socket: Socket;

  private constructor(options: ConnectOptions) {
    this.socket = netConnect({
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
      onread: {
        buffer: READ_BUFFER,
        callback: (size, buf) => {
          this.onData(buf, size);
          return true;
        },
      },
    });
    this.socket.setNoDelay(true);
  }

  static connect(options: ConnectOptions, pool?: ClientPool): Promise<RawClient> {
    const client = new RawClient(options);
    const { socket } = client;
    pool?.add(client);
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new Error(`CONNACK timeout for ${options.clientId}`)),
        options.timeoutMs ?? 10_000,
      );
      const closed = (): void => fail(new Error(`connection closed before CONNACK (${options.clientId})`));
      socket.once('error', fail);
      socket.once('close', closed);
      socket.once('connect', () =>
        socket.write(connectPacket(options.clientId, options.keepalive ?? 0, options.clean)),
      );
      client.waiters.set(CONNACK, (buf, body) => {
        clearTimeout(timer);
        socket.removeListener('close', closed);
        socket.removeListener('error', fail);
        // Later errors (e.g. ECONNRESET when a broker is killed) must not crash the run.
        socket.on('error', () => undefined);
        const code = buf[body + 1];
        if (code === 0) resolve(client);
        else fail(new Error(`CONNACK return code ${code} for ${options.clientId}`));
      });
    });
  }

  /** Subscribes and resolves on SUBACK; rejects if the broker refused the filter. */
  subscribe(topic: string, qos: 0 | 1 | 2, messageId = 1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.set(SUBACK, (buf, body) => {
        const granted = buf[body + 2];
        if (granted === 0x80) reject(new Error(`subscription to ${topic} refused`));
        else resolve();
      });
      this.socket.write(subscribePacket(messageId, topic, qos));
    });
  }

  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  /** Queues a 4-byte PUBACK/PUBREC/PUBREL/PUBCOMP; all acks of one read go out in one write. */
  ack(type: number, packetId: number): void {
    if (this.ackLength + 4 > ACK_BUFFER) this.flushAcks();
    const at = this.ackLength;
    this.acks[at] = (type << 4) | (type === PUBREL ? 2 : 0);
    this.acks[at + 1] = 2;
    this.acks[at + 2] = packetId >> 8;
    this.acks[at + 3] = packetId & 0xff;
    this.ackLength += 4;
  }

  flushAcks(): void {
    if (this.ackLength === 0) return;
    this.socket.write(Buffer.from(this.acks.subarray(0, this.ackLength)));
    this.ackLength = 0;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(read: Uint8Array, size: number): void {
    let buf = read as Buffer;
    let length = size;
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf.subarray(0, size)]);
      length = buf.length;
      this.pending = null;
    }
    // Corked so that acks and any publishes the handlers write in response leave in one writev.
    this.socket.cork();
    let pos = 0;
    while (length - pos >= 2) {
      let remaining = 0;
      let multiplier = 1;
      let at = pos + 1;
      let complete = false;
      while (at < length && at <= pos + 4) {
        const byte = buf[at++];
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if (byte < 0x80) {
          complete = true;
          break;
        }
      }
      const end = at + remaining;
      if (!complete || end > length) break;
      this.dispatch(buf[pos] >> 4, buf[pos] & 0x0f, buf, at, end);
      pos = end;
    }
    // Copied: the shared read buffer is overwritten by the next read.
    if (pos < length) this.pending = Buffer.from(buf.subarray(pos, length));
    this.flushAcks();
    this.socket.uncork();
  }

  private dispatch(type: number, flags: number, buf: Buffer, body: number, end: number): void {
    const waiter = this.waiters.get(type);
    if (waiter) {
      this.waiters.delete(type);
      waiter(buf, body);
      return;
    }
    this.onPacket?.(type, flags, buf, body, end);
  }
}

/** Every client a scenario opened, so they can all be closed after it, also on timeout or error. */
export class ClientPool {
  private readonly clients = new Set<RawClient>();

  add(client: RawClient): void {
    this.clients.add(client);
    client.socket.once('close', () => this.clients.delete(client));
  }

  get size(): number {
    return this.clients.size;
  }

  destroyAll(): void {
    for (const client of this.clients) client.destroy();
    this.clients.clear();
  }
}

/** Opens `count` connections with at most `concurrency` handshakes in flight, to avoid SYN-backlog drops. */
export async function connectMany(
  count: number,
  concurrency: number,
  options: (index: number) => ConnectOptions,
  pool: ClientPool,
): Promise<RawClient[]> {
  const clients: RawClient[] = new Array<RawClient>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      clients[index] = await RawClient.connect(options(index), pool);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return clients;
}
