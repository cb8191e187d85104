import type { Properties, QoS } from '@fluxmq/codec';
import { performance } from 'node:perf_hooks';
import type { DeliveryTrace, PublishTrace } from './hooks';
import type { SharedGroup } from './subscription-tree';

/**
 * An application message as routed: one object shared by every subscriber it goes to. The payload starts as
 * a view into the publisher's socket buffer and is copied once, by `own()`, only if something keeps it.
 */
export class Message {
  private owned = false;
  /** Set when the message is sampled for tracing. */
  trace: PublishTrace | undefined;
  /** The stored copy's id once a persistent session holds the message; 0 = not stored. */
  storeId = 0;

  constructor(
    readonly topic: string,
    public payload: Buffer,
    readonly qos: QoS,
    readonly retain: boolean,
    /** Properties forwarded to subscribers (5.0), without Message Expiry Interval, Topic Alias and ids. */
    readonly properties: Properties | undefined,
    /** Client id of the publisher; '' for messages the broker makes itself ($SYS). */
    readonly publisherId: string,
    /** Epoch milliseconds after which the message must not be delivered; 0 = never. */
    readonly expiresAt: number,
    /** When the broker read it (performance.now()), for publish-to-delivery latency and its span's start. */
    readonly receivedAt = performance.now(),
  ) {}

  /**
   * Copies the payload (and Correlation Data, also a view) out of the socket buffer so that queues and the
   * retained store can keep them without pinning the whole read they arrived in.
   */
  own(): this {
    if (!this.owned) {
      this.payload = Buffer.from(this.payload);
      const props = this.properties;
      if (props?.correlationData) props.correlationData = Buffer.from(props.correlationData);
      this.owned = true;
    }
    return this;
  }

  // The clock (`now`, epoch ms) is read only for a message that expires: most never do, and these run for
  // every delivery.

  isExpired(now?: number): boolean {
    return this.expiresAt !== 0 && (now ?? Date.now()) >= this.expiresAt;
  }

  /** The 5.0 properties a subscriber receives: the publisher's, with the expiry counted down. */
  forwardedProperties(): Properties | undefined {
    const remaining = this.remainingSeconds();
    if (remaining === undefined) return this.properties;
    return { ...this.properties, messageExpiryInterval: remaining };
  }

  /** Seconds left, for the Message Expiry Interval forwarded to subscribers (spec 3.3.2.3.3). */
  remainingSeconds(): number | undefined {
    if (this.expiresAt === 0) return undefined;
    return Math.max(0, Math.ceil((this.expiresAt - Date.now()) / 1000));
  }
}

/** One message on its way to one session: queued, or in flight awaiting acknowledgement. */
export interface Outgoing {
  readonly msg: Message;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds: number[] | undefined;
  /** The shared group it came through, so it can go to another member if this one leaves. */
  readonly group: SharedGroup | undefined;
  packetId: number;
  /** QoS 2: PUBREC received and PUBREL sent; only PUBCOMP is awaited. */
  released: boolean;
  /** The delivery span, open until the subscriber acknowledges. */
  trace?: DeliveryTrace;
  /** Its row in the session store (persistent sessions only). */
  storeId?: number;
}

/** A FIFO with O(1) push and shift, for session queues that may hold many thousands of messages. */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  *values(): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  clear(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}
