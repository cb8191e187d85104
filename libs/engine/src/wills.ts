import type { Will } from '@fluxmq/codec';
import type { Broker } from './broker';
import type { Client } from './client';

/** Wills waiting out their Will Delay Interval (5.0); 3.1.1 wills have no delay and go at once. */
export class WillScheduler {
  private readonly pending = new Map<string, { will: Will; timer: NodeJS.Timeout }>();

  constructor(private readonly broker: Broker) {}

  /** The will goes after its delay or when the session ends, whichever is first (spec 3.1.3.2.2). */
  schedule(client: Client, will: Will, sessionExpiry: number): void {
    const clientId = client.clientId;
    const delay = Math.min(will.properties?.willDelayInterval ?? 0, sessionExpiry);
    if (delay === 0) {
      this.broker.publishWill(clientId, will);
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(clientId);
      this.broker.publishWill(clientId, will);
    }, delay * 1000);
    timer.unref();
    this.pending.set(clientId, { will, timer });
  }

  cancel(clientId: string): void {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(clientId);
  }

  sessionEnded(clientId: string): void {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    this.cancel(clientId);
    this.broker.publishWill(clientId, entry.will);
  }

  clear(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}
