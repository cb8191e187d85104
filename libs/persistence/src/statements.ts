import type { Database, Statement } from 'better-sqlite3';

export type Statements = Record<
  | 'deleteSession'
  | 'upsertSession'
  | 'upsertSubscription'
  | 'deleteSubscription'
  | 'insertMessage'
  | 'deleteMessage'
  | 'insertSessionMessage'
  | 'updateSessionMessage'
  | 'deleteSessionMessage'
  | 'insertInboundQos2'
  | 'deleteInboundQos2'
  | 'upsertWill'
  | 'deleteWill'
  | 'upsertRetained'
  | 'deleteRetained',
  Statement
>;

/** Every statement the group commit runs, prepared once. Booleans are stored as 0/1, as TypeORM does. */
export function prepareStatements(db: Database): Statements {
  const s = (sql: string): Statement => db.prepare(sql);
  return {
    deleteSession: s(`DELETE FROM sessions WHERE client_id = ?`),
    upsertSession: s(
      `INSERT INTO sessions (client_id, expiry_interval, disconnected_at) VALUES (?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET expiry_interval = excluded.expiry_interval,
       disconnected_at = excluded.disconnected_at`,
    ),
    upsertSubscription: s(
      `INSERT INTO subscriptions (client_id, filter, qos, no_local, retain_as_published, retain_handling, identifier)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id, filter) DO UPDATE SET qos = excluded.qos, no_local = excluded.no_local,
       retain_as_published = excluded.retain_as_published, retain_handling = excluded.retain_handling,
       identifier = excluded.identifier`,
    ),
    deleteSubscription: s(`DELETE FROM subscriptions WHERE client_id = ? AND filter = ?`),
    insertMessage: s(
      `INSERT INTO messages (id, topic, payload, qos, retain, properties, publisher_id, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteMessage: s(`DELETE FROM messages WHERE id = ?`),
    insertSessionMessage: s(
      `INSERT INTO session_messages (id, client_id, message_id, qos, retain, subscription_ids, packet_id, released)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateSessionMessage: s(`UPDATE session_messages SET packet_id = ?, released = ? WHERE id = ?`),
    deleteSessionMessage: s(`DELETE FROM session_messages WHERE id = ?`),
    insertInboundQos2: s(`INSERT OR IGNORE INTO inbound_qos2 (client_id, packet_id) VALUES (?, ?)`),
    deleteInboundQos2: s(`DELETE FROM inbound_qos2 WHERE client_id = ? AND packet_id = ?`),
    upsertWill: s(
      `INSERT INTO wills (client_id, topic, payload, qos, retain, properties, fire_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET topic = excluded.topic, payload = excluded.payload,
       qos = excluded.qos, retain = excluded.retain, properties = excluded.properties, fire_at = excluded.fire_at`,
    ),
    deleteWill: s(`DELETE FROM wills WHERE client_id = ?`),
    upsertRetained: s(
      `INSERT INTO retained_messages (topic, payload, qos, properties, publisher_id, expires_at, stored_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos,
       properties = excluded.properties, publisher_id = excluded.publisher_id,
       expires_at = excluded.expires_at, stored_at = excluded.stored_at`,
    ),
    deleteRetained: s(`DELETE FROM retained_messages WHERE topic = ?`),
  };
}
