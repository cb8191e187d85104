import { performance } from 'node:perf_hooks';
import type { Message } from '@fluxmq/engine';

/** Upper bounds in seconds: 50 µs to 10 s, for in-process hops and for messages that waited in a queue. */
export const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

export interface Exemplar {
  traceId: string;
  value: number;
  timestamp: number;
}

/**
 * Publish-to-delivery latency, kept as plain bucket counts. Deliveries made while the broker handles one
 * socket read are recorded at the end of that batch, when their bytes are handed to the sockets: one clock
 * read per batch instead of one per delivery (a fan-out makes hundreds of deliveries per message).
 */
export class LatencyHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS.length + 1);
  readonly exemplars: (Exemplar | undefined)[] = new Array(LATENCY_BUCKETS.length + 1).fill(undefined);
  sum = 0;
  count = 0;
  private pending: number[] = [];
  private pendingTraces: (Message | undefined)[] = [];

  /** A delivery inside a batch: its latency is known when the batch ends. */
  defer(msg: Message): void {
    this.pending.push(msg.receivedAt);
    if (msg.trace) this.pendingTraces[this.pending.length - 1] = msg;
  }

  flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    const now = performance.now();
    for (let i = 0; i < n; i++) this.observe((now - this.pending[i]) / 1000, this.pendingTraces[i]);
    this.pending.length = 0;
    if (this.pendingTraces.length > 0) this.pendingTraces = [];
  }

  observe(seconds: number, traced?: Message): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
    if (traced?.trace) {
      this.exemplars[i] = {
        traceId: traced.trace.logFields['trace_id'],
        value: seconds,
        timestamp: Date.now() / 1000,
      };
    }
  }
}
