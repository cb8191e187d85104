import { randomBytes } from 'node:crypto';
import { ReasonCode, type Will } from '@fluxmq/codec';
import type { MqttConfig } from '@fluxmq/config';
import { Client, ClientState } from './client';
import { EncodeCache } from './encode-cache';
import type { BrokerHooks, BrokerObserver, DisconnectCause, DropReason } from './hooks';
import { silentLogger, type Logger } from './log';
import { Message } from './message';
import type { RestoredSession, SessionStore } from './persistence';
import { MemoryRetainedStore, type RetainedStore } from './retained-store';
import { NEVER_EXPIRES, Session } from './session';
import { BrokerStats } from './stats';
import {
  subscriptionEntry,
  SubscriptionTree,
  type SharedGroup,
  type SubscriptionEntry,
} from './subscription-tree';
import type { Transport } from './transport';
import { WillScheduler } from './wills';

export interface BrokerOptions {
  /** Read on every use, so a changed value takes effect without a restart. */
  config: MqttConfig;
  hooks?: BrokerHooks;
  logger?: Logger;
  retained?: RetainedStore;
  /** Where persistent sessions and delayed wills are kept across restarts; none = memory only. */
  store?: SessionStore;
}

/** How often keep alive, connect timeouts and session expiry are checked: one timer for all clients. */
const SWEEP_INTERVAL_MS = 250;

/**
 * The MQTT engine: owns clients, sessions, subscriptions and retained messages, and routes every message.
 * Transports hand it connections; everything else it needs comes in through `BrokerOptions`.
 */
export class Broker {
  config: MqttConfig;
  readonly hooks: BrokerHooks;
  readonly observer: BrokerObserver | undefined;
  readonly log: Logger;
  readonly stats = new BrokerStats();
  readonly sessions = new Map<string, Session>();
  readonly clients = new Set<Client>();
  readonly subscriptions = new SubscriptionTree();
  readonly retained: RetainedStore;
  readonly store: SessionStore | undefined;
  readonly encodings = new EncodeCache();
  private readonly offline = new Set<Session>();
  private readonly wills: WillScheduler;
  private readonly sweeper: NodeJS.Timeout;
  private readonly corked: Client[] = [];
  private batchDepth = 0;
  private closed = false;
  /** Acknowledgements waiting for the store's next commit, written together in one batch. */
  private heldAcks: (() => void)[] = [];

  constructor(options: BrokerOptions) {
    this.config = options.config;
    this.hooks = options.hooks ?? {};
    this.observer = this.hooks.observer;
    this.log = options.logger ?? silentLogger;
    this.retained = options.retained ?? new MemoryRetainedStore();
    this.store = options.store;
    this.wills = new WillScheduler(this);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    this.hooks.cluster?.attach((msg) => this.route(msg, undefined));
  }

  /** False when the connection was refused and destroyed: broker closing or `mqtt.maxConnections` reached. */
  handleConnection(transport: Transport): boolean {
    const limit = this.config.maxConnections;
    // Refused before a Client exists, so not a byte of it is parsed; the listener counts and logs it.
    if (this.closed || (limit > 0 && this.clients.size >= limit)) {
      transport.destroy();
      return false;
    }
    this.clients.add(new Client(transport, this));
    this.stats.connectionsTotal++;
    this.stats.count(this.stats.connectionsByListener, transport.listener);
    return true;
  }

  // --- output batching: many packets to one socket leave in one write -----------------------------------

  get batching(): boolean {
    return this.batchDepth > 0;
  }

  beginBatch(): void {
    this.batchDepth++;
  }

  endBatch(): void {
    if (--this.batchDepth > 0) return;
    this.observer?.batchEnded?.();
    if (this.corked.length === 0) return;
    for (const c of this.corked) {
      c.corked = false;
      c.transport.uncork();
    }
    this.corked.length = 0;
  }

  cork(client: Client): void {
    client.corked = true;
    client.transport.cork();
    this.corked.push(client);
  }

  // --- sessions -----------------------------------------------------------------------------------------

  newClientId(): string {
    return `fluxmq-${randomBytes(8).toString('hex')}`;
  }

  /** Binds a newly connected client to its session, taking over from an older connection (spec 3.1.4). */
  attachSession(
    client: Client,
    cleanStart: boolean,
    expiryInterval: number,
  ): { session: Session; present: boolean } {
    let session = this.sessions.get(client.clientId);
    const previous = session?.client;
    if (previous) {
      this.log.info('session taken over', {
        clientId: client.clientId,
        remote: client.remoteAddress,
        ...client.connectTrace?.logFields,
      });
      previous.disconnect('takeover', ReasonCode.SessionTakenOver);
    }
    // A new connection before the Will Delay Interval passed means the will is not sent (spec 3.1.3.2.2).
    this.wills.cancel(client.clientId);
    if (session && cleanStart) {
      this.endSession(session);
      session = undefined;
    }
    const present = session !== undefined;
    if (!session) {
      session = new Session(client.clientId, this);
      this.sessions.set(client.clientId, session);
    }
    this.offline.delete(session);
    session.client = client;
    session.expiryInterval = expiryInterval;
    client.session = session;
    this.persist(session);
    return { session, present };
  }

  /** A session with an expiry is stored; one whose expiry became 0 ends at disconnect, so is not. */
  private persist(session: Session): void {
    const store = this.store;
    if (!store) return;
    if (session.expiryInterval > 0) {
      session.store = store;
      store.saveSession(session);
    } else if (session.store) {
      store.deleteSession(session);
      session.store = undefined;
    }
  }

  /**
   * Writes an acknowledgement that promises stored state (a PUBACK after which the publisher forgets the
   * message) only once that state is committed, when `persistence.durability` asks for it.
   */
  whenDurable(write: () => void): void {
    const store = this.store;
    if (!store?.holdsAcks) return write();
    if (this.heldAcks.length === 0) store.afterCommit(this.releaseAcks);
    this.heldAcks.push(write);
  }

  private readonly releaseAcks = (): void => {
    const acks = this.heldAcks;
    this.heldAcks = [];
    this.beginBatch();
    try {
      for (const write of acks) write();
    } finally {
      this.endBatch();
    }
  };

  /** Puts a persistent session read from the store back, offline, before the listeners open. */
  restoreSession(restored: RestoredSession): void {
    const session = new Session(restored.clientId, this);
    session.expiryInterval = restored.expiryInterval;
    session.disconnectedAt = restored.disconnectedAt;
    session.store = this.store;
    for (const { rawFilter, ...options } of restored.subscriptions) {
      const entry = subscriptionEntry(session, rawFilter, options);
      session.subscriptions.set(rawFilter, entry);
      this.subscriptions.add(entry);
    }
    session.restoreMessages(restored.messages);
    for (const packetId of restored.inboundQos2) session.inboundQos2.add(packetId);
    this.sessions.set(session.clientId, session);
    this.offline.add(session);
  }

  /** Puts back a will that was waiting out its delay when the broker stopped. */
  restoreWill(clientId: string, will: Will, fireAt: number): void {
    this.wills.scheduleAt(clientId, will, fireAt);
  }

  clientClosed(client: Client, cause: DisconnectCause, reasonCode: number, wasConnected: boolean): void {
    this.clients.delete(client);
    // A connection that ended while its CONNECT was handled (authentication running, protocol error).
    client.connectTrace?.end({ reasonCode, errorType: cause });
    client.connectTrace = undefined;
    if (!wasConnected) return;
    this.stats.clientsConnected--;
    this.stats.count(this.stats.disconnects, cause);
    const trace = this.hooks.tracer?.startControl('disconnect', client);
    this.log.info('client disconnected', {
      clientId: client.clientId,
      cause,
      reasonCode,
      ...trace?.logFields,
    });
    trace?.end({
      reasonCode,
      disconnectCause: cause,
      errorType: cause === 'client_disconnect' ? undefined : cause,
    });
    this.observer?.clientDisconnected?.(client, cause, reasonCode);
    const session = client.session;
    if (session && session.client === client) {
      session.client = null;
      session.disconnectedAt = Date.now();
      session.handOffShared();
      // A taken-over session lives on in the new connection, whatever its expiry said.
      if (session.expiryInterval === 0 && cause !== 'takeover') this.endSession(session);
      else {
        this.offline.add(session);
        session.store?.sessionOffline(session);
      }
    }
    if (client.will) this.wills.schedule(client, client.will, session?.expiryInterval ?? 0);
  }

  /** Ends a session: its subscriptions go, and its undelivered shared-subscription messages move on. */
  endSession(session: Session): void {
    if (this.sessions.get(session.clientId) !== session) return;
    this.sessions.delete(session.clientId);
    this.offline.delete(session);
    for (const entry of session.subscriptions.values()) this.subscriptions.remove(entry);
    session.subscriptions.clear();
    session.handOffShared();
    session.store?.deleteSession(session);
    session.store = undefined;
    session.abandon();
    this.wills.sessionEnded(session.clientId);
  }

  subscribe(session: Session, entry: SubscriptionEntry): boolean {
    const existing = session.subscriptions.get(entry.rawFilter);
    if (existing) this.subscriptions.remove(existing);
    session.subscriptions.set(entry.rawFilter, entry);
    this.subscriptions.add(entry);
    session.store?.subscriptionSaved(session, entry);
    return existing !== undefined;
  }

  unsubscribe(session: Session, rawFilter: string): boolean {
    const entry = session.subscriptions.get(rawFilter);
    if (!entry) return false;
    session.subscriptions.delete(rawFilter);
    this.subscriptions.remove(entry);
    session.store?.subscriptionRemoved(session, rawFilter);
    return true;
  }

  /** Disconnects a client by id (admin action); true when one was connected. */
  kick(clientId: string): boolean {
    const client = this.sessions.get(clientId)?.client;
    if (!client) return false;
    client.disconnect('admin_kick', ReasonCode.AdministrativeAction, 'disconnected by an administrator');
    return true;
  }

  // --- routing -----------------------------------------------------------------------------------------

  /**
   * Publishes a message from a client (or from the broker when `publisher` is undefined): stores it if
   * retained, hands it to the cluster and delivers it locally. Returns how many sessions it went to.
   */
  publish(msg: Message, publisher: Client | undefined): number {
    this.observer?.messagePublished?.(publisher, msg);
    if (msg.retain && this.config.retainAvailable) this.retain(msg);
    this.hooks.cluster?.forward(msg);
    const span = msg.trace?.child('route');
    const delivered = this.route(msg, publisher?.clientId);
    span?.end();
    return delivered;
  }

  private retain(msg: Message): void {
    const limit = this.config.maxRetainedMessages;
    const retained = this.retained;
    if (limit > 0 && msg.payload.length > 0 && retained.size >= limit && !retained.has(msg.topic)) {
      // Still delivered to current subscribers; only keeping it for future ones is refused.
      // Logged once per thousand, so that a client flooding new topics cannot flood the log too.
      if (this.stats.retainedRefused++ % 1000 === 0) {
        this.log.warn('retained messages not stored: mqtt.maxRetainedMessages reached', {
          topic: msg.topic,
          refused: this.stats.retainedRefused,
          ...msg.trace?.logFields,
        });
      }
      return;
    }
    retained.set(msg);
  }

  private route(msg: Message, publisherId: string | undefined): number {
    const match = this.subscriptions.match(msg.topic);
    let count = 0;
    for (const { session, entries } of match.direct) {
      let qos = -1;
      let retainAsPublished = false;
      let ids: number[] | undefined;
      if (entries.length === 1) {
        const e = entries[0];
        if (e.noLocal && session.clientId === publisherId) continue;
        qos = e.qos;
        retainAsPublished = e.retainAsPublished;
        ids = e.identifiers;
      } else {
        // Overlapping filters: one copy, at the highest QoS, with every subscription identifier (3.3.4).
        for (const e of entries) {
          if (e.noLocal && session.clientId === publisherId) continue;
          if (e.qos > qos) qos = e.qos;
          retainAsPublished ||= e.retainAsPublished;
          if (e.identifier !== undefined) (ids ??= []).push(e.identifier);
        }
        if (qos < 0) continue;
      }
      session.deliver(
        msg,
        qos < msg.qos ? (qos as 0 | 1 | 2) : msg.qos,
        retainAsPublished && msg.retain,
        ids,
      );
      count++;
    }
    for (const group of match.groups) if (this.deliverShared(group, msg)) count++;
    if (count === 0 && msg.publisherId !== '') this.drop('no_subscribers', msg, undefined);
    return count;
  }

  /** Gives a message to one member of a shared group, other than `exclude`; false when none is left. */
  deliverShared(group: SharedGroup, msg: Message, exclude?: Session): boolean {
    const member = group.pick(exclude);
    if (!member) return false;
    const qos = member.qos < msg.qos ? member.qos : msg.qos;
    member.session.deliver(msg, qos, member.retainAsPublished && msg.retain, member.identifiers, group);
    return true;
  }

  /** Publishes a will (spec 3.1.2.5), as if its client had sent it. */
  publishWill(clientId: string, will: Will): void {
    const props = will.properties;
    const expiry = props?.messageExpiryInterval;
    const { willDelayInterval: _delay, messageExpiryInterval: _expiry, ...forwarded } = props ?? {};
    const msg = new Message(
      will.topic,
      will.payload,
      will.qos,
      will.retain,
      Object.keys(forwarded).length > 0 ? forwarded : undefined,
      clientId,
      expiry !== undefined ? Date.now() + expiry * 1000 : 0,
    ).own();
    this.log.info('publishing will', { clientId, topic: will.topic });
    this.beginBatch();
    this.stats.messagesReceived++;
    this.publish(msg, undefined);
    this.endBatch();
  }

  drop(reason: DropReason, msg: Message | undefined, clientId: string | undefined): void {
    this.stats.dropped[reason]++;
    this.observer?.messageDropped?.(reason, msg, clientId);
  }

  // --- time ----------------------------------------------------------------------------------------------

  private sweep(): void {
    const now = Date.now();
    const { connectTimeoutMs } = this.config;
    for (const c of this.clients) {
      if (c.state === ClientState.AwaitingConnect && now - c.openedAt > connectTimeoutMs) {
        this.log.info('closing connection that sent no CONNECT in time', { remote: c.remoteAddress });
        c.terminate('connect_timeout', ReasonCode.MaximumConnectTime);
      } else if (
        c.state === ClientState.Connected &&
        c.keepAlive > 0 &&
        now - c.lastSeen > c.keepAlive * 1500
      ) {
        this.log.info('keep alive timeout', { clientId: c.clientId, keepAlive: c.keepAlive });
        c.disconnect('keepalive_timeout', ReasonCode.KeepAliveTimeout);
      }
    }
    for (const s of this.offline) {
      if (s.expiryInterval !== NEVER_EXPIRES && now - s.disconnectedAt >= s.expiryInterval * 1000) {
        this.log.debug('session expired', { clientId: s.clientId });
        this.endSession(s);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.wills.clear();
    for (const c of [...this.clients]) {
      if (c.state === ClientState.Connected) c.will = undefined; // a shutdown is not the client's failure
      c.disconnect('server_shutdown', ReasonCode.ServerShuttingDown);
    }
  }
}
