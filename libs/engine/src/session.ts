import type { QoS } from '@fluxmq/codec';
import type { Broker } from './broker';
import type { Client } from './client';
import { Deque, type Message, type Outgoing } from './message';
import type { RestoredMessage, SessionStore } from './persistence';
import type { SharedGroup, SubscriptionEntry } from './subscription-tree';

/** Session Expiry Interval meaning "never expires" (spec 3.1.2.11.2). */
export const NEVER_EXPIRES = 0xffffffff;

/**
 * The state the spec says outlives a connection: subscriptions, messages in flight and queued, and the
 * QoS 2 packet ids received but not yet released. A session has at most one client attached at a time.
 */
export class Session {
  client: Client | null = null;
  readonly subscriptions = new Map<string, SubscriptionEntry>();
  /** In send order: Map keeps insertion order, which is the order to resend in after a reconnect. */
  readonly inflight = new Map<number, Outgoing>();
  readonly queue = new Deque<Outgoing>();
  /** QoS 2 publishes from the client that were routed and PUBREC'd, awaiting PUBREL (exactly once). */
  readonly inboundQos2 = new Set<number>();
  expiryInterval = 0;
  disconnectedAt = 0;
  /** Set while the session is persistent and persistence is on: every change is reported to it. */
  store: SessionStore | undefined;
  private lastPacketId = 0;

  constructor(
    readonly clientId: string,
    private readonly broker: Broker,
  ) {}

  /** How many QoS 1/2 messages may be unacknowledged at the client: ours and the client's limit. */
  private get window(): number {
    const c = this.client;
    return c ? Math.min(this.broker.config.maxInflight, c.receiveMaximum) : 0;
  }

  /** Whether a message sent now would go straight out, not into the queue. */
  canTakeMore(): boolean {
    const c = this.client;
    return c !== null && !c.backlogged() && this.inflight.size < this.window && this.queue.length === 0;
  }

  deliver(msg: Message, qos: QoS, retain: boolean, subIds: number[] | undefined, group?: SharedGroup): void {
    const c = this.client;
    if (qos === 0) {
      if (c) {
        if (c.backlogged()) this.broker.drop('qos0_not_writable', msg, this.clientId);
        else this.writeQos0(c, msg, retain, subIds);
      } else if (this.broker.config.queueQos0) {
        this.enqueue({
          msg: msg.own(),
          qos,
          retain,
          subscriptionIds: subIds,
          group,
          packetId: 0,
          released: false,
        });
      } else this.broker.drop('qos0_offline', msg, this.clientId);
      return;
    }
    const out: Outgoing = { msg, qos, retain, subscriptionIds: subIds, group, packetId: 0, released: false };
    this.store?.messageAdded(this, out);
    if (this.canTakeMore()) this.sendNew(out);
    else this.enqueue(out);
  }

  private enqueue(out: Outgoing): void {
    const { maxQueuedMessages, queueOverflow } = this.broker.config;
    if (this.queue.length >= maxQueuedMessages) {
      if (queueOverflow === 'drop-new' || maxQueuedMessages === 0) {
        this.dropOutgoing('queue_full', out);
        return;
      }
      this.dropOutgoing('queue_full', this.queue.shift()!);
    }
    out.msg.own();
    this.queue.push(out);
  }

  private sendNew(out: Outgoing): void {
    const c = this.client!;
    if (out.msg.isExpired()) {
      this.dropOutgoing('expired', out);
      return;
    }
    if (out.qos === 0) {
      this.writeQos0(c, out.msg, out.retain, out.subscriptionIds);
      return;
    }
    out.packetId = this.allocatePacketId();
    this.inflight.set(out.packetId, out);
    out.trace = out.msg.trace?.deliver(c, out.qos);
    if (!c.writePublish(out.msg, out.qos, out.retain, out.subscriptionIds, out.packetId, false, out.trace)) {
      this.inflight.delete(out.packetId); // too large for this client: dropped as if delivered (spec 3.1.2.25)
      out.trace?.end('too_large');
      this.store?.messageRemoved(this, out);
    } else {
      out.msg.own();
      this.store?.messageUpdated(this, out);
    }
  }

  private dropOutgoing(reason: 'queue_full' | 'expired', out: Outgoing): void {
    this.broker.drop(reason, out.msg, this.clientId);
    if (out.qos > 0) this.store?.messageRemoved(this, out);
  }

  private writeQos0(c: Client, msg: Message, retain: boolean, subIds: number[] | undefined): void {
    const trace = msg.trace?.deliver(c, 0);
    const written = c.writePublish(msg, 0, retain, subIds, 0, false, trace);
    trace?.end(written ? undefined : 'too_large');
  }

  /** Sends queued messages while the window and the socket allow. */
  pump(): void {
    const c = this.client;
    if (!c) return;
    while (this.queue.length > 0 && !c.backlogged()) {
      const next = this.queue.peek()!;
      if (next.qos > 0 && this.inflight.size >= this.window) return;
      this.queue.shift();
      this.sendNew(next);
    }
  }

  /** PUBACK, or PUBCOMP, or a PUBREC with a failure code: the message is done. */
  complete(packetId: number, errorType?: string): boolean {
    const out = this.inflight.get(packetId);
    if (!out) return false;
    this.inflight.delete(packetId);
    out.trace?.end(errorType);
    this.store?.messageRemoved(this, out);
    this.pump();
    return true;
  }

  /** PUBREC: from now on only PUBCOMP is awaited. */
  release(packetId: number): boolean {
    const out = this.inflight.get(packetId);
    if (!out || out.qos !== 2) return false;
    out.released = true;
    this.store?.messageUpdated(this, out);
    return true;
  }

  /** After a reconnect: resend what was in flight, unacknowledged, with DUP set (spec 4.4). */
  resume(): void {
    const c = this.client!;
    for (const out of this.inflight.values()) {
      if (out.released) c.writePubrel(out.packetId);
      else if (out.msg.isExpired()) {
        this.inflight.delete(out.packetId);
        this.dropOutgoing('expired', out);
        out.trace?.end('expired');
      } else c.writePublish(out.msg, out.qos, out.retain, out.subscriptionIds, out.packetId, true, out.trace);
    }
    this.pump();
  }

  /**
   * Messages that came through a shared subscription go to another member of the group when this one
   * leaves, instead of waiting for a member that may never return (spec 4.8.2 permits either).
   */
  handOffShared(): void {
    const keep: Outgoing[] = [];
    const moved: Outgoing[] = [];
    for (const out of this.inflight.values()) if (out.group && !out.released) moved.push(out);
    for (const out of moved) {
      this.inflight.delete(out.packetId);
      out.trace?.end('handed_off');
    }
    for (const out of this.queue.clear()) (out.group ? moved : keep).push(out);
    for (const out of keep) this.queue.push(out);
    for (const out of moved) {
      if (this.broker.deliverShared(out.group!, out.msg, this)) {
        if (out.qos > 0) this.store?.messageRemoved(this, out);
        continue;
      }
      // Nobody else online to take it: keep it here, queued again, for when this member returns.
      if (out.packetId !== 0) {
        out.packetId = 0;
        this.store?.messageUpdated(this, out);
      }
      this.queue.push(out);
    }
  }

  /** The session is gone: close the delivery spans of what was still in flight. */
  abandon(): void {
    for (const out of this.inflight.values()) out.trace?.end('session_ended');
    this.inflight.clear();
  }

  /** Puts back what the store held when the broker stopped; `resume` resends the in-flight part. */
  restoreMessages(messages: readonly RestoredMessage[]): void {
    for (const m of messages) {
      const out: Outgoing = {
        msg: m.msg,
        qos: m.qos,
        retain: m.retain,
        subscriptionIds: m.subscriptionIds,
        group: undefined,
        packetId: m.packetId,
        released: m.released,
        storeId: m.storeId,
      };
      if (m.packetId === 0) this.queue.push(out);
      else {
        this.inflight.set(m.packetId, out);
        this.lastPacketId = m.packetId;
      }
    }
  }

  private allocatePacketId(): number {
    for (let i = 0; i < 65535; i++) {
      this.lastPacketId = this.lastPacketId === 65535 ? 1 : this.lastPacketId + 1;
      if (!this.inflight.has(this.lastPacketId)) return this.lastPacketId;
    }
    throw new Error('no free packet identifier'); // unreachable: the window is at most 65535
  }
}
