import type { QoS } from '@fluxmq/codec';
import { Message, type Broker, type RestoredMessage, type RestoredSession } from '@fluxmq/engine';
import type { DataSource } from 'typeorm';
import {
  InboundQos2Entity,
  RetainedMessageEntity,
  SessionEntity,
  SessionMessageEntity,
  StoredMessageEntity,
  SubscriptionEntity,
  WillEntity,
} from './entities';
import { propertiesFromJson } from './properties-json';
import type { SqliteRetainedStore } from './retained-store';
import type { SqliteStateStore } from './state-store';

/** Session Expiry Interval meaning "never" (spec 3.1.2.11.2). */
const NEVER_EXPIRES = 0xffffffff;

export interface RestoreSummary {
  sessions: number;
  expiredSessions: number;
  messages: number;
  wills: number;
  retained: number;
}

/**
 * Reads the stored state back into a new broker before its listeners open: persistent sessions with their
 * subscriptions, queued and in-flight messages and QoS 2 ids; delayed wills; retained messages. What
 * expired while the broker was down is deleted instead.
 */
export async function restoreState(
  dataSource: DataSource,
  broker: Broker,
  state: SqliteStateStore,
  retained: SqliteRetainedStore,
): Promise<RestoreSummary> {
  const now = Date.now();
  const summary: RestoreSummary = { sessions: 0, expiredSessions: 0, messages: 0, wills: 0, retained: 0 };
  const sessions = await dataSource.getRepository(SessionEntity).find();
  // A session whose client was connected when the broker stopped counts as disconnected now.
  const expired = sessions.filter(
    (s) =>
      s.disconnectedAt !== null &&
      s.expiryInterval !== NEVER_EXPIRES &&
      s.disconnectedAt + s.expiryInterval * 1000 <= now,
  );
  if (expired.length > 0) {
    await dataSource.getRepository(SessionEntity).delete(expired.map((s) => s.clientId));
    summary.expiredSessions = expired.length;
  }
  // Bodies no session refers to any more (their sessions expired, or a crash came between the deletes).
  await dataSource.query(`DELETE FROM messages WHERE id NOT IN (SELECT message_id FROM session_messages)`);

  const live = sessions.filter((s) => !expired.includes(s));
  const subscriptions = groupBy(await dataSource.getRepository(SubscriptionEntity).find(), (s) => s.clientId);
  const qos2 = groupBy(await dataSource.getRepository(InboundQos2Entity).find(), (r) => r.clientId);
  const bodies = new Map<number, Message>();
  for (const row of await dataSource.getRepository(StoredMessageEntity).find()) {
    const msg = new Message(
      row.topic,
      row.payload,
      row.qos as QoS,
      row.retain,
      propertiesFromJson(row.properties),
      row.publisherId,
      row.expiresAt,
    ).own();
    msg.storeId = row.id;
    bodies.set(row.id, msg);
  }
  const rows = await dataSource.getRepository(SessionMessageEntity).find({ order: { id: 'ASC' } });
  const messages = groupBy(rows, (r) => r.clientId);

  for (const s of live) {
    const restoredMessages: RestoredMessage[] = [];
    for (const row of messages.get(s.clientId) ?? []) {
      const msg = bodies.get(row.messageId);
      if (!msg) continue;
      restoredMessages.push({
        storeId: row.id,
        msg,
        qos: row.qos as QoS,
        retain: row.retain,
        subscriptionIds: row.subscriptionIds === null ? undefined : JSON.parse(row.subscriptionIds),
        packetId: row.packetId,
        released: row.released,
      });
    }
    const restored: RestoredSession = {
      clientId: s.clientId,
      expiryInterval: s.expiryInterval,
      disconnectedAt: s.disconnectedAt ?? now,
      subscriptions: (subscriptions.get(s.clientId) ?? []).map((sub) => ({
        rawFilter: sub.filter,
        qos: sub.qos as QoS,
        noLocal: sub.noLocal,
        retainAsPublished: sub.retainAsPublished,
        retainHandling: sub.retainHandling as 0 | 1 | 2,
        identifier: sub.identifier ?? undefined,
      })),
      messages: restoredMessages,
      inboundQos2: (qos2.get(s.clientId) ?? []).map((r) => r.packetId),
    };
    state.adoptSession(s.clientId, restoredMessages);
    broker.restoreSession(restored);
    summary.sessions++;
    summary.messages += restoredMessages.length;
  }

  for (const w of await dataSource.getRepository(WillEntity).find()) {
    const will = {
      topic: w.topic,
      payload: w.payload,
      qos: w.qos as QoS,
      retain: w.retain,
      properties: propertiesFromJson(w.properties),
    };
    broker.restoreWill(w.clientId, will, w.fireAt);
    summary.wills++;
  }

  const retainedRepo = dataSource.getRepository(RetainedMessageEntity);
  for (const r of await retainedRepo.find()) {
    if (r.expiresAt !== 0 && r.expiresAt <= now) {
      await retainedRepo.delete(r.topic);
      continue;
    }
    const props = propertiesFromJson(r.properties);
    retained.restore(new Message(r.topic, r.payload, r.qos as QoS, true, props, r.publisherId, r.expiresAt));
    summary.retained++;
  }
  return summary;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
