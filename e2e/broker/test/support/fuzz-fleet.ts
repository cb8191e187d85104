import { Worker } from 'node:worker_threads';
import type { TestBroker } from './broker';
import { onCleanup } from './cleanup';
import type { ConnectionPlan, EndMode } from './fuzz-corpus';

/**
 * Fuzz connections run in worker threads: in FluxMQ mode the broker shares the test process, and hundreds of
 * short-lived client sockets on its event loop would halve what it can take. Plans (the bytes and how to end)
 * are generated here, seeded; a worker only opens sockets, writes the chunks, ends the connection the way
 * the plan says and reports how it ended. Plain JavaScript, evaluated (workers get no TypeScript transform).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { host, port, concurrency, finTimeoutMs, hardTimeoutMs } = workerData;
const queue = [];
let active = 0;
// What the broker sends is checked as it arrives: packet types a server may send, with their fixed-header
// flags, CONNACK first, nothing after a DISCONNECT or a refusing CONNACK, nothing above the Maximum Packet
// Size the client announced. By packet type: the flags required, -1 for types only clients (or nobody)
// send, -2 for PUBLISH, whose flags carry DUP, QoS and RETAIN.
const SERVER_FLAGS = [-1, -1, 0, -2, 0, 0, 2, 0, -1, 0, -1, 0, -1, 0, 0, 0];
function checkOutput(state, chunk) {
  let buf = state.buf.length > 0 ? Buffer.concat([state.buf, chunk]) : chunk;
  let off = 0;
  while (state.problem === undefined && buf.length - off >= 2) {
    let length = 0, mul = 1, i = 1, byte = 0x80;
    while (byte & 0x80) {
      if (i > 4) return void (state.problem = 'a remaining length longer than 4 bytes');
      if (off + i >= buf.length) { length = -1; break; }
      byte = buf[off + i++];
      length += (byte & 0x7f) * mul;
      mul *= 128;
    }
    if (length < 0 || off + i + length > buf.length) break;
    const b0 = buf[off];
    const type = b0 >> 4;
    const flags = SERVER_FLAGS[type];
    if (flags === -1) state.problem = 'packet type ' + type + ', which only clients send';
    else if (flags >= 0 && (b0 & 15) !== flags) state.problem = 'packet type ' + type + ' with flags ' + (b0 & 15);
    else if (type === 3 && (b0 & 6) === 6) state.problem = 'a PUBLISH with QoS 3';
    else if (state.packets === 0 && type !== 2) state.problem = 'packet type ' + type + ' before CONNACK';
    else if (state.ended) state.problem = 'packet type ' + type + ' after ' + state.ended;
    else if (type === 2 && state.packets > 0) state.problem = 'a second CONNACK';
    else if (i + length > state.maxPacketSize) {
      state.problem = 'packet type ' + type + ' of ' + (i + length) + ' bytes, above the client maximum of ' + state.maxPacketSize;
    }
    if (type === 14) state.ended = 'DISCONNECT';
    else if (type === 2 && length >= 2 && buf[off + i + 1] !== 0) state.ended = 'a refusing CONNACK';
    state.packets++;
    off += i + length;
  }
  state.buf = buf.subarray(off);
}
let results = [];
let flushTimer = null;
function flush() {
  flushTimer = null;
  if (results.length === 0) return;
  parentPort.postMessage({ type: 'results', results });
  results = [];
}
function report(result) {
  results.push(result);
  if (results.length >= 64) flush();
  else if (flushTimer === null) flushTimer = setTimeout(flush, 20);
}
function pump() {
  while (active < concurrency && queue.length > 0) {
    active++;
    run(queue.shift());
  }
}
function run(plan) {
  if (plan.delayMs > 0) {
    const delayMs = plan.delayMs;
    plan.delayMs = 0;
    return void setTimeout(run, delayMs, plan);
  }
  const socket = net.createConnection({ host, port });
  socket.setNoDelay(true);
  let done = false, brokerEnded = false, connected = false, error, timer, bytesIn = 0;
  const output = {
    buf: Buffer.alloc(0),
    packets: 0,
    ended: undefined,
    problem: undefined,
    maxPacketSize: plan.maxPacketSize || Infinity,
  };
  const hard = setTimeout(judge, hardTimeoutMs, 'hard-timeout', Date.now() + hardTimeoutMs);
  // A verdict against the broker waits for one more poll for I/O: timers run before I/O in an event-loop
  // turn, so a worker starved of CPU past its deadline would otherwise wake, see the timer due and miss the
  // broker's FIN that arrived in time. How late the timer fired is reported: the worker's own lag.
  function judge(outcome, due) {
    setImmediate(finish, outcome, Date.now() - due);
  }
  function finish(outcome, lateMs) {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearTimeout(hard);
    socket.destroy();
    active--;
    report({ id: plan.id, outcome, error, bytesIn, connected, problem: output.problem, lateMs });
    pump();
  }
  socket.on('error', (err) => { error = err.code || err.message; });
  socket.on('data', (chunk) => {
    bytesIn += chunk.length;
    checkOutput(output, chunk);
  });
  socket.on('end', () => { brokerEnded = true; });
  socket.on('close', () => {
    // A reset from the broker (it destroyed a socket with unread bytes) is the broker closing too.
    const byBroker = brokerEnded || error === 'ECONNRESET' || error === 'EPIPE';
    finish(byBroker ? 'broker-closed' : 'closed');
  });
  if (!plan.read) socket.pause();
  function write(i) {
    if (done || socket.destroyed) return;
    if (i < plan.chunks.length) {
      socket.write(plan.chunks[i]);
      setImmediate(write, i + 1);
      return;
    }
    if (plan.end === 'fin') {
      socket.end();
      timer = setTimeout(judge, finTimeoutMs, 'fin-timeout', Date.now() + finTimeoutMs);
    } else if (plan.end === 'rst') {
      socket.resetAndDestroy();
      finish('reset');
    } else if (plan.end === 'linger') {
      timer = setTimeout(judge, plan.waitMs, 'linger-timeout', Date.now() + plan.waitMs);
    } else {
      timer = setTimeout(finish, plan.waitMs, 'waited');
    }
  }
  socket.on('connect', () => {
    connected = true;
    write(0);
  });
}
parentPort.on('message', (message) => {
  if (message.type !== 'plans') return;
  for (const plan of message.plans) queue.push(plan);
  pump();
});
`;

/**
 * How a fuzz connection ended. broker-closed: the broker closed it (FIN or reset); closed: it closed with no
 * sign from the broker (a local error); waited: open until the plan's wait was over, then destroyed by us;
 * reset: reset by us right after writing; fin-timeout: we half-closed and the broker did not close within
 * `finTimeoutMs`; linger-timeout: a socket that never sent CONNECT outlived the connect timeout;
 * hard-timeout: still open long after anything the plan asked for.
 */
export type Outcome =
  'broker-closed' | 'closed' | 'waited' | 'reset' | 'fin-timeout' | 'linger-timeout' | 'hard-timeout';

export interface ConnectionResult {
  id: number;
  outcome: Outcome;
  /** The socket error code seen, if any (ECONNRESET and EPIPE are ordinary here). */
  error: string | undefined;
  bytesIn: number;
  /** Whether the TCP connection was established at all. */
  connected: boolean;
  /** What was wrong with the bytes the broker sent, if anything (see checkOutput in the worker). */
  problem: string | undefined;
  /** For a timeout outcome: how late the worker's timer fired (its own event loop's lag), in ms. */
  lateMs: number | undefined;
}

interface WirePlan {
  id: number;
  chunks: Buffer[];
  end: EndMode;
  waitMs: number;
  read: boolean;
  delayMs: number;
  /** 0: none announced. */
  maxPacketSize: number;
}

interface ResultsMessage {
  type: 'results';
  results: ConnectionResult[];
}

function isResultsMessage(value: unknown): value is ResultsMessage {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'results' &&
    Array.isArray((value as { results?: unknown }).results)
  );
}

export interface FleetOptions {
  workers: number;
  /** Connections open at once per worker. */
  concurrency: number;
  /** How long the broker may take to close a connection after our FIN. */
  finTimeoutMs: number;
  /** Longest any one connection may live. */
  hardTimeoutMs: number;
}

/** Worker threads running fuzz connections against one broker. */
export class FuzzFleet {
  private readonly workers: Worker[];
  private readonly unregister: () => void;

  constructor(
    broker: TestBroker,
    private readonly options: FleetOptions,
  ) {
    const data = {
      host: broker.host,
      port: broker.tcpPort,
      concurrency: options.concurrency,
      finTimeoutMs: options.finTimeoutMs,
      hardTimeoutMs: options.hardTimeoutMs,
    };
    this.workers = Array.from(
      { length: options.workers },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: data }),
    );
    this.unregister = onCleanup('fuzz fleet', () => this.close());
  }

  /**
   * Runs every plan `next` yields (until it returns undefined), keeping each worker's queue short so plans
   * are generated as they are needed. Resolves once every connection has ended.
   */
  run(
    next: () => ConnectionPlan | undefined,
    onResult: (plan: ConnectionPlan, result: ConnectionResult) => void,
  ): Promise<void> {
    const pending = new Map<number, ConnectionPlan>();
    const perWorker = this.workers.map(() => 0);
    const batch = Math.max(8, this.options.concurrency);
    let exhausted = false;
    return new Promise<void>((resolve, reject) => {
      const feed = (w: number): void => {
        const plans: WirePlan[] = [];
        while (!exhausted && perWorker[w] + plans.length < batch * 2) {
          const plan = next();
          if (!plan) {
            exhausted = true;
            break;
          }
          pending.set(plan.id, plan);
          const { id, chunks, end, waitMs, read, delayMs = 0, maxPacketSize = 0 } = plan;
          plans.push({ id, chunks, end, waitMs, read, delayMs, maxPacketSize });
        }
        if (plans.length === 0) return;
        perWorker[w] += plans.length;
        this.workers[w].postMessage({ type: 'plans', plans });
      };
      const finishIfDone = (): void => {
        if (exhausted && pending.size === 0) {
          for (const worker of this.workers) worker.removeAllListeners('message');
          resolve();
        }
      };
      const fail = (err: unknown): void => {
        for (const worker of this.workers) worker.removeAllListeners('message');
        reject(err);
      };
      this.workers.forEach((worker, w) => {
        worker.on('error', fail);
        worker.on('message', (message: unknown) => {
          if (!isResultsMessage(message)) return;
          // A throwing generator or callback fails the run instead of escaping as an uncaught exception.
          try {
            for (const result of message.results) {
              const plan = pending.get(result.id);
              if (!plan) continue;
              pending.delete(result.id);
              perWorker[w]--;
              onResult(plan, result);
            }
            if (perWorker[w] < batch) feed(w);
            finishIfDone();
          } catch (err) {
            fail(err);
          }
        });
      });
      try {
        this.workers.forEach((_, w) => feed(w));
        finishIfDone();
      } catch (err) {
        fail(err);
      }
    });
  }

  async close(): Promise<void> {
    this.unregister();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
