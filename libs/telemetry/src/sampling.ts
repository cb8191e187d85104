import type { SamplingConfig } from '@fluxmq/config';
import { topicMatches } from '@fluxmq/engine';

/**
 * Decides which messages and control packets are traced, before any span exists, so an unsampled message
 * costs a random number and a set lookup. Parent-based: a publisher's sampled `traceparent` is always
 * followed; otherwise a ratio applies, and listed client ids and topic filters are always traced.
 * `update` takes effect for the next decision: sampling changes without a restart.
 */
export class SamplingPolicy {
  private ratio = 1;
  private clients = new Set<string>();
  private topics: string[] = [];

  constructor(settings: SamplingConfig) {
    this.update(settings);
  }

  update(settings: SamplingConfig): void {
    this.ratio = settings.sampleRatio;
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
    if (clientId !== undefined && this.clients.has(clientId)) return true;
    if (topic !== undefined && this.topics.length > 0 && this.topics.some((f) => topicMatches(f, topic)))
      return true;
    if (parentSampled === false) return false;
    return this.ratio >= 1 || (this.ratio > 0 && Math.random() < this.ratio);
  }
}
