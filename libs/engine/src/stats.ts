import type { DropReason } from './hooks';

/**
 * Running totals kept by the engine as plain numbers (cheap to bump on the hot path). $SYS topics read
 * them; the metrics issue exports them, and the admin API shows them.
 */
export class BrokerStats {
  readonly startedAt = Date.now();
  clientsConnected = 0;
  clientsMaximum = 0;
  connectionsTotal = 0;
  messagesReceived = 0;
  messagesSent = 0;
  publishReceived = [0, 0, 0];
  publishSent = [0, 0, 0];
  bytesReceived = 0;
  bytesSent = 0;
  packetsReceived = 0;
  packetsSent = 0;
  readonly dropped: Record<DropReason, number> = {
    queue_full: 0,
    expired: 0,
    too_large: 0,
    no_subscribers: 0,
    not_authorized: 0,
    rate_limited: 0,
    qos0_not_writable: 0,
    qos0_offline: 0,
  };

  get droppedTotal(): number {
    let n = 0;
    for (const v of Object.values(this.dropped)) n += v;
    return n;
  }
}
