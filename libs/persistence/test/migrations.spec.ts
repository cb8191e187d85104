import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataSource } from '../src';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxmq-migrations-'));
  dirs.push(dir);
  return join(dir, 'nested', 'fluxmq.db');
}

describe('schema migrations', () => {
  it('creates the database, its folder and the schema on first start, in WAL mode', async () => {
    const path = tempDatabase();
    const ds = await openDataSource({ path, synchronous: 'normal' });
    const tables = (await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)) as {
      name: string;
    }[];
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'acl_rules',
        'audit_log',
        'config_revisions',
        'inbound_qos2',
        'messages',
        'rate_limit_policies',
        'retained_messages',
        'session_messages',
        'sessions',
        'subscriptions',
        'users',
        'wills',
      ]),
    );
    expect(await ds.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await ds.query('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]); // NORMAL
    await ds.destroy();
  });

  it('produces exactly the schema the entities describe (the migration is not out of date)', async () => {
    const ds = await openDataSource({ path: tempDatabase(), synchronous: 'full' });
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(await ds.query('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]); // FULL
    await ds.destroy();
  });

  it('runs each migration once: a restart finds the schema current and keeps the data', async () => {
    const path = tempDatabase();
    const first = await openDataSource({ path, synchronous: 'normal' });
    await first.query(
      `INSERT INTO sessions (client_id, expiry_interval, disconnected_at) VALUES ('a', 60, 1)`,
    );
    await first.destroy();
    const second = await openDataSource({ path, synchronous: 'normal' });
    expect(await second.showMigrations()).toBe(false);
    expect(await second.query('SELECT name FROM migrations')).toEqual([
      { name: 'InitialSchema1764028800000' },
    ]);
    expect(await second.query('SELECT client_id FROM sessions')).toEqual([{ client_id: 'a' }]);
    await second.destroy();
  });
});
