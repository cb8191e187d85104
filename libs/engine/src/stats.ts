import type { DisconnectCause, DropReason } from './hooks';

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
  /** By QoS: messages, and their payload bytes. */
  publishReceived = [0, 0, 0];
  publishSent = [0, 0, 0];
  payloadBytesReceived = [0, 0, 0];
  payloadBytesSent = [0, 0, 0];
  /** Bytes on the wire, all packets. */
  bytesReceived = 0;
  bytesSent = 0;
  packetsReceived = 0;
  packetsSent = 0;
  /** By packet type (index = MQTT control packet type, 1-15). */
  readonly packetsReceivedByType = new Array<number>(16).fill(0);
  readonly packetsSentByType = new Array<number>(16).fill(0);
  /** CONNACK reason codes (5.0 numbering, also for 3.1.1 clients) → count. */
  readonly connacks = new Map<number, number>();
  readonly disconnects = new Map<DisconnectCause, number>();
  readonly connectionsByListener = new Map<string, number>();
  authSuccesses = 0;
  authFailures = 0;
  subscribesGranted = 0;
  subscribesRefused = 0;
  /** Publishes and subscriptions (per filter) the authorizer refused. */
  readonly authzDenied = { publish: 0, subscribe: 0 };
  /** Retained publishes to a new topic not stored because `mqtt.maxRetainedMessages` was reached. */
  retainedRefused = 0;
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

  count<K>(map: Map<K, number>, key: K): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  get droppedTotal(): number {
    let n = 0;
    for (const v of Object.values(this.dropped)) n += v;
    return n;
  }
}
