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
  // Pending deliveries as (receive time, how many): a fan-out's deliveries of one message arrive in a row
  // and collapse into one entry, so recording costs a compare and an increment per subscriber.
  private pendingTimes: number[] = [];
  private pendingCounts: number[] = [];
  private pendingTraces: (Message | undefined)[] = [];
  private last: Message | undefined;

  /** A delivery inside a batch: its latency is known when the batch ends. */
  defer(msg: Message): void {
    const n = this.pendingTimes.length;
    if (msg === this.last && n > 0) {
      this.pendingCounts[n - 1]++;
      return;
    }
    this.last = msg;
    this.pendingTimes.push(msg.receivedAt);
    this.pendingCounts.push(1);
    if (msg.trace) this.pendingTraces[n] = msg;
  }

  flush(): void {
    const n = this.pendingTimes.length;
    if (n === 0) return;
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      this.observe((now - this.pendingTimes[i]) / 1000, this.pendingTraces[i], this.pendingCounts[i]);
    }
    this.pendingTimes.length = 0;
    this.pendingCounts.length = 0;
    this.last = undefined;
    if (this.pendingTraces.length > 0) this.pendingTraces = [];
  }

  observe(seconds: number, traced?: Message, times = 1): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i] += times;
    this.sum += seconds * times;
    this.count += times;
    if (traced?.trace) {
      this.exemplars[i] = {
        traceId: traced.trace.logFields['trace_id'],
        value: seconds,
        timestamp: Date.now() / 1000,
      };
    }
  }
}
