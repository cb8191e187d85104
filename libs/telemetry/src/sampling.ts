import { randomBytes } from 'node:crypto';
import type { SamplingConfig } from '@fluxmq/config';
import { topicMatches } from '@fluxmq/engine';

/**
 * Decides which messages and control packets are traced, before any span exists, so an unsampled message
 * costs a random number. Parent-based: a publisher's sampled `traceparent` is always
 * followed; otherwise a ratio applies, and listed client ids and topic filters are always traced.
 * `update` takes effect for the next decision: sampling changes without a restart.
 */
export class SamplingPolicy {
  private ratio = 1;
  /** `ratio` scaled to 31-bit random numbers. */
  private threshold = 0;
  private clients = new Set<string>();
  private topics: string[] = [];
  // xorshift32 rather than Math.random: this runs for every message, and integer arithmetic never leaves a
  // boxed double behind, which Math.random's result becomes wherever the JIT does not inline the call.
  private state = randomBytes(4).readInt32LE() | 1;

  constructor(settings: SamplingConfig) {
    this.update(settings);
  }

  update(settings: SamplingConfig): void {
    this.ratio = settings.sampleRatio;
    this.threshold = settings.sampleRatio * 0x80000000;
    this.clients = new Set(settings.alwaysSampleClients);
    this.topics = [...settings.alwaysSampleTopics];
  }

  get settings(): SamplingConfig {
    return {
      sampleRatio: this.ratio,
      alwaysSampleClients: [...this.clients],
      alwaysSampleTopics: [...this.topics],
    };
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
    return this.ratio >= 1 || this.random31() < this.threshold;
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
