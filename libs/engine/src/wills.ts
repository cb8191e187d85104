import type { Will } from '@fluxmq/codec';
import type { Broker } from './broker';
import type { Client } from './client';

/**
 * Wills waiting out their Will Delay Interval (5.0); 3.1.1 wills have no delay and go at once. Waiting wills
 * are also given to the session store, so that one pending when the broker stops still goes after a restart.
 */
export class WillScheduler {
  private readonly pending = new Map<string, { will: Will; timer: NodeJS.Timeout }>();

  constructor(private readonly broker: Broker) {}

  /** The will goes after its delay or when the session ends, whichever is first (spec 3.1.3.2.2). */
  schedule(client: Client, will: Will, sessionExpiry: number): void {
    const delay = Math.min(will.properties?.willDelayInterval ?? 0, sessionExpiry);
    if (delay === 0) {
      this.broker.publishWill(client.clientId, will);
      return;
    }
    const fireAt = Date.now() + delay * 1000;
    this.broker.store?.willScheduled(client.clientId, will, fireAt);
    this.scheduleAt(client.clientId, will, fireAt);
  }

  scheduleAt(clientId: string, will: Will, fireAt: number): void {
    const timer = setTimeout(() => this.fire(clientId), Math.max(0, fireAt - Date.now()));
    timer.unref();
    this.pending.set(clientId, { will, timer });
  }

  cancel(clientId: string): void {
    this.take(clientId);
  }

  sessionEnded(clientId: string): void {
    this.fire(clientId);
  }

  private fire(clientId: string): void {
    const will = this.take(clientId);
    if (will) this.broker.publishWill(clientId, will);
  }

  private take(clientId: string): Will | undefined {
    const entry = this.pending.get(clientId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.pending.delete(clientId);
    this.broker.store?.willRemoved(clientId);
    return entry.will;
  }

  /** At shutdown: timers stop, but stored wills stay stored for the next start. */
  clear(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}
