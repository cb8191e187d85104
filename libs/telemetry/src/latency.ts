import { performance } from 'node:perf_hooks';
import type { Message, PublishTrace } from '@fluxmq/engine';

/** Upper bounds in seconds: 50 µs to 10 s, for in-process hops and for messages that waited in a queue. */
export const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** The last traced delivery in a bucket. Its trace is kept rather than its id: the id is spelled out only if scraped. */
export interface Exemplar {
  trace: PublishTrace;
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
  // Pending deliveries as (receive time, how many), in typed arrays kept from batch to batch: a fan-out's
  // deliveries of one message arrive in a row and collapse into one entry, so recording costs a compare
  // and an increment per subscriber, and nothing is allocated. Entries are told apart by receive time
  // (the message objects themselves are not kept: storing each one would cost a write barrier).
  private pendingTimes = new Float64Array(1024);
  private pendingCounts = new Uint32Array(1024);
  private pending = 0;
  // The traced messages among them, for exemplars: their entry numbers, in order, and the messages.
  private readonly tracedEntries: number[] = [];
  private readonly tracedMessages: Message[] = [];

  /** A delivery inside a batch: its latency is known when the batch ends. */
  defer(msg: Message): void {
    const n = this.pending;
    if (n > 0 && this.pendingTimes[n - 1] === msg.receivedAt) {
      this.pendingCounts[n - 1]++;
    } else {
      if (n === this.pendingTimes.length) this.grow();
      this.pendingTimes[n] = msg.receivedAt;
      this.pendingCounts[n] = 1;
      this.pending = n + 1;
    }
    // Checked for every delivery, not only one that opens an entry: a traced message usually lands inside
    // a socket read's run of messages. A branch only the rare traced openers take had not run when V8
    // compiled the publish path, so the first one deoptimized it all, and the recompiled path kept the
    // broker's routing and writing as separate calls (fan-in at 1% sampling; see docs/benchmarks.md).
    if (msg.trace !== undefined) this.deferTraced(msg);
  }

  /** The entry's exemplar: its last traced message, as one entry has one bucket and one exemplar. */
  private deferTraced(msg: Message): void {
    const entry = this.pending - 1;
    const last = this.tracedEntries.length - 1;
    if (last >= 0 && this.tracedEntries[last] === entry) this.tracedMessages[last] = msg;
    else {
      this.tracedEntries.push(entry);
      this.tracedMessages.push(msg);
    }
  }

  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    const now = performance.now();
    let traced = 0;
    for (let i = 0; i < n; i++) {
      const exemplar = this.tracedEntries[traced] === i ? this.tracedMessages[traced++] : undefined;
      this.observe((now - this.pendingTimes[i]) / 1000, exemplar, this.pendingCounts[i]);
    }
    this.pending = 0;
    if (traced > 0) {
      this.tracedEntries.length = 0;
      this.tracedMessages.length = 0;
    }
  }

  observe(seconds: number, traced?: Message, times = 1): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i] += times;
    this.sum += seconds * times;
    this.count += times;
    const trace = traced?.trace;
    if (trace) {
      const exemplar = (this.exemplars[i] ??= { trace, value: 0, timestamp: 0 });
      exemplar.trace = trace;
      exemplar.value = seconds;
      exemplar.timestamp = Date.now() / 1000;
    }
  }

  private grow(): void {
    const times = new Float64Array(this.pendingTimes.length * 2);
    times.set(this.pendingTimes);
    this.pendingTimes = times;
    const counts = new Uint32Array(this.pendingCounts.length * 2);
    counts.set(this.pendingCounts);
    this.pendingCounts = counts;
  }
}
