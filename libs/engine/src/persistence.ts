import type { QoS, Will } from '@fluxmq/codec';
import type { Message, Outgoing } from './message';
import type { Session } from './session';
import type { SubscriptionEntry } from './subscription-tree';

/**
 * Where the state of persistent sessions (Session Expiry Interval > 0, or 3.1.1 clean session 0) goes so
 * that it outlives the process. The engine reports every change as it happens, synchronously and only for
 * persistent sessions; an implementation journals the changes and commits them in groups, so a message
 * delivered and acknowledged within one group never reaches the disk at all.
 */
export interface SessionStore {
  /** A session became persistent, or its expiry changed: write it with everything it holds. */
  saveSession(session: Session): void;
  /** The client went away; the session's expiry counts from `session.disconnectedAt`. */
  sessionOffline(session: Session): void;
  /** The session ended (expired, clean start, expiry set to 0): forget all of it. */
  deleteSession(session: Session): void;
  subscriptionSaved(session: Session, entry: SubscriptionEntry): void;
  subscriptionRemoved(session: Session, rawFilter: string): void;
  /** A QoS 1/2 message was queued or sent to the session. */
  messageAdded(session: Session, out: Outgoing): void;
  /** Its packet identifier was assigned, or its PUBREC received (QoS 2, released). */
  messageUpdated(session: Session, out: Outgoing): void;
  /** Acknowledged, expired, dropped or handed to another member of a shared group. */
  messageRemoved(session: Session, out: Outgoing): void;
  inboundQos2Added(session: Session, packetId: number): void;
  inboundQos2Removed(session: Session, packetId: number): void;
  /** A will waits for its Will Delay Interval; `fireAt` in epoch milliseconds. */
  willScheduled(clientId: string, will: Will, fireAt: number): void;
  willRemoved(clientId: string): void;
  /**
   * True while changes are recorded but not committed and acknowledgements must wait for them
   * (`persistence.durability: commit`). Always false when acknowledging at once is configured.
   */
  readonly holdsAcks: boolean;
  /** Runs `callback` right after the next commit. */
  afterCommit(callback: () => void): void;
}

/** A persistent session as read back from the store at start-up. */
export interface RestoredSession {
  readonly clientId: string;
  readonly expiryInterval: number;
  /** Epoch milliseconds; the start-up time for sessions whose client was connected when the broker stopped. */
  readonly disconnectedAt: number;
  readonly subscriptions: readonly RestoredSubscription[];
  /** In the order they were given to the session; those with a packet id were in flight. */
  readonly messages: readonly RestoredMessage[];
  readonly inboundQos2: readonly number[];
}

export interface RestoredSubscription {
  readonly rawFilter: string;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly identifier: number | undefined;
}

export interface RestoredMessage {
  readonly storeId: number;
  /** One object per stored message, shared by every session it went to. */
  readonly msg: Message;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds: number[] | undefined;
  /** 0 while queued. */
  readonly packetId: number;
  readonly released: boolean;
}
