import { randomBytes } from 'node:crypto';
import type { SamplingConfig } from '@fluxmq/config';
import { topicMatches } from '@fluxmq/engine';

/** The longest gap drawn between two messages sampled by ratio (kept a small integer for the JIT). */
const MAX_GAP = 0x3fffffff;

/**
 * Decides which messages and control packets are traced, before any span exists. Parent-based: a
 * publisher's sampled `traceparent` is always followed; otherwise a ratio applies, and listed client ids
 * and topic filters are always traced. `update` takes effect for the next decision: sampling changes
 * without a restart.
 */
export class SamplingPolicy {
  private ratio = 1;
  private clients = new Set<string>();
  private topics: string[] = [];
  // xorshift32 rather than Math.random: integer arithmetic never leaves a boxed double behind.
  private state = randomBytes(4).readInt32LE() | 1;
  // Decisions left until the next one the ratio samples. Drawing the gap between samples (geometric, as
  // the gaps of independent draws at `ratio` are) once per sampled message, instead of a random number per
  // message, leaves an unsampled message one decrement: at 1% the broker decides a hundred times per trace.
  private countdown = 1;
  // A field rather than a getter over the lists: the publish path's inlined check reads it per message.
  private onlyRatio = true;

  constructor(settings: SamplingConfig) {
    this.update(settings);
  }

  update(settings: SamplingConfig): void {
    this.ratio = settings.sampleRatio;
    this.clients = new Set(settings.alwaysSampleClients);
    this.topics = [...settings.alwaysSampleTopics];
    this.onlyRatio = this.clients.size === 0 && this.topics.length === 0;
    this.countdown = this.gap();
  }

  get settings(): SamplingConfig {
    return {
      sampleRatio: this.ratio,
      alwaysSampleClients: [...this.clients],
      alwaysSampleTopics: [...this.topics],
    };
  }

  /** True when no client or topic is always traced: the ratio alone decides for a message without context. */
  get ratioOnly(): boolean {
    return this.onlyRatio;
  }

  /** `parentSampled` is undefined when the message carries no trace context. */
  shouldSample(
    clientId: string | undefined,
    topic: string | undefined,
    parentSampled: boolean | undefined,
  ): boolean {
    if (parentSampled === true) return true;
    if (clientId !== undefined && this.clients.size > 0 && this.clients.has(clientId)) return true;
    if (topic !== undefined && this.topics.length > 0 && this.topics.some((f) => topicMatches(f, topic)))
      return true;
    if (parentSampled === false) return false;
    return this.sampledByRatio();
  }

  /** The ratio's decision for one message or control packet. */
  sampledByRatio(): boolean {
    return this.ratioSkips() ? false : this.ratioSamples();
  }

  /** Counts one of the ratio's decisions; true when it is "not sampled", as all but one in a gap are. */
  ratioSkips(): boolean {
    return --this.countdown > 0;
  }

  /** The decision that ends a gap, after `ratioSkips` returned false: draws the next gap. */
  ratioSamples(): boolean {
    this.countdown = this.gap();
    return this.ratio > 0;
  }

  /** Decisions until the next sampled one, counting it: P(gap = k) = (1 − ratio)^(k−1) · ratio. */
  private gap(): number {
    if (this.ratio >= 1) return 1;
    if (this.ratio <= 0) return MAX_GAP;
    const uniform = (this.random31() + 1) / 0x80000000; // in (0, 1]
    return Math.min(MAX_GAP, Math.floor(Math.log(uniform) / Math.log1p(-this.ratio)) + 1);
  }

  private random31(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x & 0x7fffffff;
  }
}
