import { Worker } from 'node:worker_threads';
import { generate, type IPublishPacket } from 'mqtt-packet';
import type { TestBroker } from './broker';
import { onCleanup } from './cleanup';
import { uniqueId } from './mqtt-client';
import { withTimeout } from './wait';

/**
 * High-volume clients running in a worker thread. In FluxMQ mode the broker runs inside the test process: a
 * subscriber reading on the same event loop competes with the broker for it and cannot drain its socket as
 * a real, separate client would. A worker has its own event loop (and its own core), like a real client.
 *
 * The worker is plain JavaScript (evaluated, no TypeScript transform): it frames packets by their fixed
 * header only and counts PUBLISH packets; bytes to send are generated here with mqtt-packet. A subscriber
 * also publishes its count in shared memory, so that a publisher can pace itself by it (see floodFromWorker).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { host, port, role, connect, subscribe, batch, batches, progress, pace } = workerData;
const received = progress ? new Int32Array(progress) : undefined;
const paceBy = pace ? new Int32Array(pace.progress) : undefined;
const socket = net.createConnection({ host, port });
socket.setNoDelay(true);
let buffer = Buffer.alloc(0);
let publishes = 0;
let bytes = 0;
function flood() {
  let sent = 0;
  const next = () => {
    while (sent < batches) {
      const tooFar = paceBy && (sent + 1) * pace.perBatch - Atomics.load(paceBy, 0) > pace.ahead;
      if (tooFar) return setTimeout(next, 1);
      sent++;
      if (!socket.write(batch)) return socket.once('drain', next);
    }
    parentPort.postMessage({ type: 'sent' });
  };
  next();
}
socket.on('connect', () => socket.write(connect));
socket.on('data', (chunk) => {
  bytes += chunk.length;
  buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
  let offset = 0;
  for (;;) {
    let multiplier = 1, length = 0, i = 1, byte = 0x80;
    while (byte & 0x80) {
      if (offset + i >= buffer.length) { length = -1; break; }
      byte = buffer[offset + i];
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      i++;
    }
    if (length < 0 || offset + i + length > buffer.length) break;
    const type = buffer[offset] >> 4;
    if (type === 2) {
      if (role === 'subscriber') socket.write(subscribe);
      else flood();
    } else if (type === 9) parentPort.postMessage({ type: 'subscribed' });
    else if (type === 3) {
      publishes++;
      if (received) Atomics.store(received, 0, publishes);
    }
    offset += i + length;
  }
  buffer = buffer.subarray(offset);
});
socket.on('error', () => {});
socket.on('close', () => parentPort.postMessage({ type: 'closed' }));
parentPort.on('message', (message) => {
  if (message === 'count') parentPort.postMessage({ type: 'count', publishes, bytes });
  if (message === 'close') socket.destroy();
});
`;

interface WorkerMessage {
  type: 'subscribed' | 'sent' | 'closed' | 'count';
  publishes?: number;
  bytes?: number;
}

function isWorkerMessage(value: unknown): value is WorkerMessage {
  return (
    value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string'
  );
}

class ClientWorker {
  private readonly worker: Worker;
  private readonly seen = new Set<string>();
  private readonly waiters: { type: string; resolve: (m: WorkerMessage) => void }[] = [];

  constructor(
    data: Record<string, unknown>,
    /** The subscriber's count of PUBLISH packets, kept up to date by the worker. */
    readonly progress?: SharedArrayBuffer,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...data, progress } });
    this.worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      this.seen.add(message.type);
      for (const waiter of this.waiters.filter((w) => w.type === message.type)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    });
    onCleanup('client worker', () => this.worker.terminate().then(() => undefined));
  }

  next(type: WorkerMessage['type'], timeoutMs: number): Promise<WorkerMessage> {
    return withTimeout(
      new Promise<WorkerMessage>((resolve) => this.waiters.push({ type, resolve })),
      timeoutMs,
      `worker ${type}`,
    );
  }

  once(type: WorkerMessage['type'], timeoutMs: number): Promise<WorkerMessage | undefined> {
    if (this.seen.has(type)) return Promise.resolve(undefined);
    return this.next(type, timeoutMs);
  }

  async count(): Promise<{ publishes: number; bytes: number }> {
    const reply = this.next('count', 2000);
    this.worker.postMessage('count');
    const m = await reply;
    return { publishes: m.publishes ?? 0, bytes: m.bytes ?? 0 };
  }

  close(): void {
    this.worker.postMessage('close');
  }
}

function connectBytes(): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: uniqueId('w'),
    keepalive: 0,
  });
}

/** A 3.1.1 subscriber in a worker thread that counts the PUBLISH packets it receives on `filter`. */
export async function startCountingSubscriber(broker: TestBroker, filter: string): Promise<ClientWorker> {
  const worker = new ClientWorker(
    {
      host: broker.host,
      port: broker.tcpPort,
      role: 'subscriber',
      connect: connectBytes(),
      subscribe: generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] }),
    },
    new SharedArrayBuffer(4),
  );
  await worker.once('subscribed', 5000);
  return worker;
}

/** Keeps a flood at most `ahead` messages ahead of what `subscriber` has received. */
export interface Pace {
  subscriber: ClientWorker;
  ahead: number;
}

/**
 * A 3.1.1 publisher in a worker thread writing `count` copies of `publish` as fast as the socket takes them,
 * or, paced, as fast as a subscriber reads them: a subscriber that falls behind by more than the broker
 * buffers for it loses QoS 0 messages by design, and on two busy cores even a healthy one can.
 */
export async function floodFromWorker(
  broker: TestBroker,
  publish: IPublishPacket,
  count: number,
  pace?: Pace,
): Promise<ClientWorker> {
  const perBatch = 100;
  const one = generate(publish);
  const progress = pace?.subscriber.progress;
  if (pace && !progress) throw new Error('only a counting subscriber can pace a flood');
  return new ClientWorker({
    host: broker.host,
    port: broker.tcpPort,
    role: 'publisher',
    connect: connectBytes(),
    batch: Buffer.concat(Array.from({ length: perBatch }, () => one)),
    batches: Math.ceil(count / perBatch),
    pace: pace && { progress, ahead: pace.ahead, perBatch },
  });
}

export type { ClientWorker };
