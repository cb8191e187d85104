import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: broker state (sessions and what they hold, delayed wills, retained messages) and the
 * operator's data (configuration history, users, ACL rules, rate-limit policies, audit log). Written out
 * rather than generated, so that what runs against a user's database is what was reviewed; a test checks
 * that it matches the entities exactly.
 */
export class InitialSchema1764028800000 implements MigrationInterface {
  name = 'InitialSchema1764028800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "sessions" ("client_id" text PRIMARY KEY NOT NULL, "expiry_interval" integer NOT NULL, "disconnected_at" integer)`,
    );
    await q.query(
      `CREATE TABLE "subscriptions" ("client_id" text NOT NULL, "filter" text NOT NULL, "qos" integer NOT NULL, "no_local" boolean NOT NULL, "retain_as_published" boolean NOT NULL, "retain_handling" integer NOT NULL, "identifier" integer, CONSTRAINT "fk_subscriptions_session" FOREIGN KEY ("client_id") REFERENCES "sessions" ("client_id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("client_id", "filter"))`,
    );
    await q.query(
      `CREATE TABLE "messages" ("id" integer PRIMARY KEY NOT NULL, "topic" text NOT NULL, "payload" blob NOT NULL, "qos" integer NOT NULL, "retain" boolean NOT NULL, "properties" text, "publisher_id" text NOT NULL, "expires_at" integer NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "session_messages" ("id" integer PRIMARY KEY NOT NULL, "client_id" text NOT NULL, "message_id" integer NOT NULL, "qos" integer NOT NULL, "retain" boolean NOT NULL, "subscription_ids" text, "packet_id" integer NOT NULL, "released" boolean NOT NULL, CONSTRAINT "fk_session_messages_session" FOREIGN KEY ("client_id") REFERENCES "sessions" ("client_id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await q.query(`CREATE INDEX "idx_session_messages_client" ON "session_messages" ("client_id") `);
    await q.query(`CREATE INDEX "idx_session_messages_message" ON "session_messages" ("message_id") `);
    await q.query(
      `CREATE TABLE "inbound_qos2" ("client_id" text NOT NULL, "packet_id" integer NOT NULL, CONSTRAINT "fk_inbound_qos2_session" FOREIGN KEY ("client_id") REFERENCES "sessions" ("client_id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("client_id", "packet_id"))`,
    );
    await q.query(
      `CREATE TABLE "wills" ("client_id" text PRIMARY KEY NOT NULL, "topic" text NOT NULL, "payload" blob NOT NULL, "qos" integer NOT NULL, "retain" boolean NOT NULL, "properties" text, "fire_at" integer NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "retained_messages" ("topic" text PRIMARY KEY NOT NULL, "payload" blob NOT NULL, "qos" integer NOT NULL, "properties" text, "publisher_id" text NOT NULL, "expires_at" integer NOT NULL, "stored_at" integer NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "config_revisions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "created_at" integer NOT NULL, "author" text NOT NULL, "comment" text, "document" text NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "users" ("username" text PRIMARY KEY NOT NULL, "password_hash" text NOT NULL, "disabled" boolean NOT NULL DEFAULT (0), "created_at" integer NOT NULL, "updated_at" integer NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "acl_rules" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "priority" integer NOT NULL, "effect" text NOT NULL, "action" text NOT NULL, "topic" text NOT NULL, "username" text, "client_id" text, "ip_range" text, "comment" text, "created_at" integer NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "rate_limit_policies" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" text NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), "username" text, "client_id" text, "ip_range" text, "messages_per_second" real, "bytes_per_second" real, "connections_per_second" real, "burst" integer, "created_at" integer NOT NULL, "updated_at" integer NOT NULL, CONSTRAINT "uq_rate_limit_policies_name" UNIQUE ("name"))`,
    );
    await q.query(
      `CREATE TABLE "audit_log" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" integer NOT NULL, "actor" text NOT NULL, "action" text NOT NULL, "target" text, "detail" text)`,
    );
    await q.query(`CREATE INDEX "idx_audit_log_at" ON "audit_log" ("at") `);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_log',
      'rate_limit_policies',
      'acl_rules',
      'users',
      'config_revisions',
      'retained_messages',
      'wills',
      'inbound_qos2',
      'session_messages',
      'messages',
      'subscriptions',
      'sessions',
    ]) {
      await q.query(`DROP TABLE "${table}"`);
    }
  }
}
