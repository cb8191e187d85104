import type { PersistenceConfig } from '@fluxmq/config';
import type { Will } from '@fluxmq/codec';
import type { Logger, Message, Outgoing, Session, SessionStore, SubscriptionEntry } from '@fluxmq/engine';
import type { Database } from 'better-sqlite3';
import { propertiesToJson } from './properties-json';
import { prepareStatements, type Statements } from './statements';

/** Changes to one session since the last commit. */
interface SessionChanges {
  /** Delete everything stored for the client before applying the rest (the session ended). */
  reset: boolean;
  /** Row to write: expiry and disconnect time; null = none (deleted, or untouched). */
  row: { expiryInterval: number; disconnectedAt: number | null } | null;
  subscriptions: Map<string, SubscriptionEntry | null>;
  /** By row id: a new row, an update of a stored one, or a deletion. */
  messages: Map<number, { op: 'insert' | 'update' | 'delete'; out: Outgoing }>;
  /** Packet id → received (true) or released (false). */
  inboundQos2: Map<number, boolean>;
}

export interface StoreStats {
  commits: number;
  /** Rows written or deleted. */
  commitRows: number;
  commitFailures: number;
  /** Seconds the last commit took. */
  lastCommitSeconds: number;
}

const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Journals the broker's state changes in memory and commits them in groups: in `commit` durability, once
 * per turn of the event loop (everything read from every socket in that turn), with acknowledgements held
 * until then; in `interval` durability, every `flushIntervalMs`, with acknowledgements sent at once. Changes
 * that cancel out within a group (a message stored then acknowledged) never reach SQLite.
 */
export class SqliteStateStore implements SessionStore {
  readonly stats: StoreStats = { commits: 0, commitRows: 0, commitFailures: 0, lastCommitSeconds: 0 };
  /** Told each commit's duration in seconds (the metrics' histogram). */
  onCommit: ((seconds: number) => void) | undefined;
  private readonly statements: Statements;
  private readonly holdAcks: boolean;
  private sessions = new Map<string, SessionChanges>();
  /** Message bodies to insert, by id; dropped if no session refers to them by commit time. */
  private newBodies = new Map<number, Message>();
  private deadBodies = new Set<number>();
  private wills = new Map<string, { will: Will; fireAt: number } | null>();
  private retained = new Map<string, Message | null>();
  private callbacks: (() => void)[] = [];
  /** How many session rows refer to each stored body, so the body goes with the last of them. */
  private readonly bodyRefs = new Map<number, number>();
  /** Clients whose session is stored (or will be at the next commit). */
  private readonly known = new Set<string>();
  private dirty = false;
  private immediate: NodeJS.Immediate | undefined;
  private timeout: NodeJS.Timeout | undefined;
  private lastRowId: number;
  private lastBodyId: number;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly config: Pick<PersistenceConfig, 'durability' | 'flushIntervalMs'>,
    private readonly log: Logger,
  ) {
    this.statements = prepareStatements(db);
    this.holdAcks = config.durability === 'commit';
    const max = (table: string) =>
      (db.prepare(`SELECT COALESCE(MAX(id), 0) AS id FROM ${table}`).get() as { id: number }).id;
    this.lastRowId = max('session_messages');
    this.lastBodyId = max('messages');
  }

  get holdsAcks(): boolean {
    return this.holdAcks && this.dirty;
  }

  /** Changes recorded and not yet committed (sessions, wills and retained topics touched). */
  get pendingChanges(): number {
    return this.sessions.size + this.wills.size + this.retained.size;
  }

  afterCommit(callback: () => void): void {
    if (!this.dirty) callback();
    else this.callbacks.push(callback);
  }

  // --- what the restore tells us is already stored -------------------------------------------------------

  /** Called for each session read back at start-up, so that changes to it are updates. */
  adoptSession(clientId: string, messages: readonly { msg: Message }[]): void {
    this.known.add(clientId);
    for (const { msg } of messages) this.bodyRefs.set(msg.storeId, (this.bodyRefs.get(msg.storeId) ?? 0) + 1);
  }

  // --- SessionStore ----------------------------------------------------------------------------------------

  saveSession(session: Session): void {
    const changes = this.changesFor(session.clientId);
    changes.row = { expiryInterval: session.expiryInterval, disconnectedAt: null };
    if (this.known.has(session.clientId)) return;
    // Newly persistent: write what it already holds (a session can exist before it is stored, e.g. taken
    // over from a connection with expiry 0 by one asking for an expiry).
    this.known.add(session.clientId);
    for (const entry of session.subscriptions.values()) this.subscriptionSaved(session, entry);
    for (const out of session.inflight.values()) if (out.qos > 0) this.messageAdded(session, out);
    for (const out of session.queue.values()) if (out.qos > 0) this.messageAdded(session, out);
    for (const packetId of session.inboundQos2) this.inboundQos2Added(session, packetId);
  }

  sessionOffline(session: Session): void {
    this.changesFor(session.clientId).row = {
      expiryInterval: session.expiryInterval,
      disconnectedAt: session.disconnectedAt,
    };
  }

  deleteSession(session: Session): void {
    const clientId = session.clientId;
    if (!this.known.delete(clientId)) return;
    for (const out of session.inflight.values()) this.releaseRow(out);
    for (const out of session.queue.values()) this.releaseRow(out);
    // Replaces whatever was pending for it: rows not yet inserted never will be.
    this.sessions.set(clientId, {
      reset: true,
      row: null,
      subscriptions: new Map(),
      messages: new Map(),
      inboundQos2: new Map(),
    });
    this.touch();
  }

  private releaseRow(out: Outgoing): void {
    if (out.storeId === undefined) return;
    out.storeId = undefined;
    this.releaseBody(out.msg);
  }

  subscriptionSaved(session: Session, entry: SubscriptionEntry): void {
    this.changesFor(session.clientId).subscriptions.set(entry.rawFilter, entry);
  }

  subscriptionRemoved(session: Session, rawFilter: string): void {
    this.changesFor(session.clientId).subscriptions.set(rawFilter, null);
  }

  messageAdded(session: Session, out: Outgoing): void {
    const msg = out.msg;
    if (msg.storeId === 0) {
      msg.storeId = ++this.lastBodyId;
      this.newBodies.set(msg.storeId, msg);
      this.bodyRefs.set(msg.storeId, 1);
    } else this.bodyRefs.set(msg.storeId, (this.bodyRefs.get(msg.storeId) ?? 0) + 1);
    out.storeId = ++this.lastRowId;
    this.changesFor(session.clientId).messages.set(out.storeId, { op: 'insert', out });
  }

  messageUpdated(session: Session, out: Outgoing): void {
    if (out.storeId === undefined) return;
    const messages = this.changesFor(session.clientId).messages;
    // A row not yet inserted is written with its state at commit time: nothing more to do.
    if (!messages.has(out.storeId)) messages.set(out.storeId, { op: 'update', out });
  }

  messageRemoved(session: Session, out: Outgoing): void {
    const id = out.storeId;
    if (id === undefined) return;
    out.storeId = undefined;
    const messages = this.changesFor(session.clientId).messages;
    if (messages.get(id)?.op === 'insert') messages.delete(id);
    else messages.set(id, { op: 'delete', out });
    this.releaseBody(out.msg);
  }

  inboundQos2Added(session: Session, packetId: number): void {
    this.changesFor(session.clientId).inboundQos2.set(packetId, true);
  }

  inboundQos2Removed(session: Session, packetId: number): void {
    const ids = this.changesFor(session.clientId).inboundQos2;
    if (ids.get(packetId) === true) ids.delete(packetId);
    else ids.set(packetId, false);
  }

  willScheduled(clientId: string, will: Will, fireAt: number): void {
    this.wills.set(clientId, { will, fireAt });
    this.touch();
  }

  willRemoved(clientId: string): void {
    this.wills.set(clientId, null);
    this.touch();
  }

  // --- retained messages (through SqliteRetainedStore) -----------------------------------------------------

  retainedSet(msg: Message): void {
    this.retained.set(msg.topic, msg);
    this.touch();
  }

  retainedDeleted(topic: string): void {
    this.retained.set(topic, null);
    this.touch();
  }

  // --- commit ----------------------------------------------------------------------------------------------

  /** Writes every recorded change in one transaction, then runs what waited for it. */
  commit(): void {
    clearImmediate(this.immediate);
    clearTimeout(this.timeout);
    this.immediate = this.timeout = undefined;
    if (!this.dirty) return;
    const started = performance.now();
    let rows: number;
    try {
      rows = this.db.transaction(() => this.writeChanges())();
    } catch (err) {
      // Kept as they are, acknowledgements included, and tried again: nothing is confirmed that is not stored.
      this.stats.commitFailures++;
      this.log.error('persistence commit failed; retrying', { error: (err as Error).message });
      if (!this.closed) this.timeout = setTimeout(() => this.commit(), RETRY_AFTER_FAILURE_MS).unref();
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    this.stats.commits++;
    this.stats.commitRows += rows;
    this.stats.lastCommitSeconds = seconds;
    this.onCommit?.(seconds);
    this.sessions = new Map();
    this.newBodies = new Map();
    this.deadBodies = new Set();
    this.wills = new Map();
    this.retained = new Map();
    this.dirty = false;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  }

  /** Commits what is pending; nothing is recorded afterwards. */
  close(): void {
    this.commit();
    this.closed = true;
  }

  private writeChanges(): number {
    const st = this.statements;
    let rows = 0;
    // Bodies first: session rows point at them.
    for (const [id, msg] of this.newBodies) {
      if (!this.bodyRefs.has(id)) continue; // every session done with it within this group
      st.insertMessage.run(
        id,
        msg.topic,
        msg.payload,
        msg.qos,
        msg.retain ? 1 : 0,
        propertiesToJson(msg.properties),
        msg.publisherId,
        msg.expiresAt,
      );
      rows++;
    }
    for (const [clientId, c] of this.sessions) {
      if (c.reset) rows += st.deleteSession.run(clientId).changes;
      if (c.row) {
        st.upsertSession.run(clientId, c.row.expiryInterval, c.row.disconnectedAt);
        rows++;
      }
      for (const [filter, e] of c.subscriptions) {
        if (e) {
          st.upsertSubscription.run(
            clientId,
            filter,
            e.qos,
            e.noLocal ? 1 : 0,
            e.retainAsPublished ? 1 : 0,
            e.retainHandling,
            e.identifier ?? null,
          );
        } else st.deleteSubscription.run(clientId, filter);
        rows++;
      }
      for (const [id, { op, out }] of c.messages) {
        if (op === 'insert') {
          st.insertSessionMessage.run(
            id,
            clientId,
            out.msg.storeId,
            out.qos,
            out.retain ? 1 : 0,
            out.subscriptionIds ? JSON.stringify(out.subscriptionIds) : null,
            out.packetId,
            out.released ? 1 : 0,
          );
        } else if (op === 'update') st.updateSessionMessage.run(out.packetId, out.released ? 1 : 0, id);
        else st.deleteSessionMessage.run(id);
        rows++;
      }
      for (const [packetId, received] of c.inboundQos2) {
        if (received) st.insertInboundQos2.run(clientId, packetId);
        else st.deleteInboundQos2.run(clientId, packetId);
        rows++;
      }
    }
    for (const id of this.deadBodies) rows += st.deleteMessage.run(id).changes;
    for (const [clientId, w] of this.wills) {
      if (w) {
        const { will, fireAt } = w;
        const props = propertiesToJson(will.properties);
        st.upsertWill.run(clientId, will.topic, will.payload, will.qos, will.retain ? 1 : 0, props, fireAt);
      } else st.deleteWill.run(clientId);
      rows++;
    }
    const now = Date.now();
    for (const [topic, msg] of this.retained) {
      if (msg && msg.payload.length > 0) {
        const props = propertiesToJson(msg.properties);
        st.upsertRetained.run(topic, msg.payload, msg.qos, props, msg.publisherId, msg.expiresAt, now);
      } else st.deleteRetained.run(topic);
      rows++;
    }
    return rows;
  }

  private changesFor(clientId: string): SessionChanges {
    let changes = this.sessions.get(clientId);
    if (!changes) {
      changes = {
        reset: false,
        row: null,
        subscriptions: new Map(),
        messages: new Map(),
        inboundQos2: new Map(),
      };
      this.sessions.set(clientId, changes);
      this.touch();
    }
    return changes;
  }

  private releaseBody(msg: Message): void {
    const id = msg.storeId;
    const refs = (this.bodyRefs.get(id) ?? 1) - 1;
    if (refs > 0) {
      this.bodyRefs.set(id, refs);
      return;
    }
    this.bodyRefs.delete(id);
    msg.storeId = 0; // stored again under a new id should a persistent session get it later (retained)
    if (!this.newBodies.delete(id)) this.deadBodies.add(id);
    this.touch();
  }

  private touch(): void {
    if (this.dirty) return;
    this.dirty = true;
    if (this.closed) return;
    if (this.holdAcks) this.immediate = setImmediate(() => this.commit());
    else this.timeout = setTimeout(() => this.commit(), this.config.flushIntervalMs).unref();
  }
}
