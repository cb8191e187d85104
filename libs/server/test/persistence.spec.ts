import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@fluxmq/config';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '@fluxmq/auth';
import { AclRuleEntity, openDataSource, UserEntity } from '@fluxmq/persistence';
import { startBrokerServer, type BrokerServer } from '../src';

describe('persistence in the composed server', () => {
  let server: BrokerServer | undefined;
  let dir: string;
  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the database, and its commits show in the metrics', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-server-db-'));
    const config = loadConfig({
      env: {},
      overrides: {
        log: { level: 'silent' },
        sys: { enabled: false },
        listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
        persistence: { path: join(dir, 'fluxmq.db') },
      },
    });
    expect(config.persistence.enabled).toBe(true); // on by default
    server = await startBrokerServer(config);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports['tcp']}`, { reconnectPeriod: 0 });
    await client.publishAsync('kept', 'value', { qos: 1, retain: true });
    await client.endAsync();

    const text = await server.metrics!.prometheus.metrics();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('fluxmq_store_commits_total')).toBeGreaterThanOrEqual(1);
    expect(value('fluxmq_store_rows_written_total')).toBeGreaterThanOrEqual(1);
    expect(value('fluxmq_store_commit_failures_total')).toBe(0);
    expect(value('fluxmq_store_pending_changes')).toBe(0);
    expect(value('fluxmq_store_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    const rows = await server.persistence!.dataSource.query('SELECT topic FROM retained_messages');
    expect(rows).toEqual([{ topic: 'kept' }]);
  });

  it('does not store the $SYS statistics it republishes every interval', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-server-db-'));
    const config = loadConfig({
      env: {},
      overrides: {
        log: { level: 'silent' },
        sys: { enabled: true, intervalSeconds: 1 },
        listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
        persistence: { path: join(dir, 'fluxmq.db') },
      },
    });
    server = await startBrokerServer(config);
    await new Promise((r) => setTimeout(r, 1200));
    expect(server.broker.retained.size).toBeGreaterThan(10);
    expect(await server.persistence!.dataSource.query('SELECT topic FROM retained_messages')).toEqual([]);
  });

  it('logs in users and applies ACL rules stored in the database', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-server-db-'));
    const path = join(dir, 'fluxmq.db');
    const db = await openDataSource({ path, synchronous: 'normal' });
    const now = Date.now();
    await db.getRepository(UserEntity).save([
      { username: 'ada', passwordHash: await hashPassword('s3cret'), createdAt: now, updatedAt: now },
      {
        username: 'off',
        passwordHash: await hashPassword('s3cret'),
        disabled: true,
        createdAt: now,
        updatedAt: now,
      },
    ]);
    const rule = { effect: 'allow', action: 'all', priority: 0, createdAt: now };
    await db.getRepository(AclRuleEntity).save({ ...rule, topic: 'users/%u/#' });
    await db.destroy();

    server = await startBrokerServer(
      loadConfig({
        env: {},
        overrides: {
          log: { level: 'silent' },
          sys: { enabled: false },
          listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
          persistence: { path },
          auth: { enabled: true },
        },
      }),
    );
    const url = `mqtt://127.0.0.1:${server.ports['tcp']}`;
    const connect = (username: string, password: string) =>
      mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: 5, username, password });
    await expect(connect('ada', 'wrong')).rejects.toThrow(/Bad User Name or Password/);
    await expect(connect('off', 's3cret')).rejects.toThrow(/Bad User Name or Password/);
    const ada = await connect('ada', 's3cret');
    expect((await ada.subscribeAsync('users/ada/inbox', { qos: 1 }))[0].qos).toBe(1);
    await expect(ada.subscribeAsync('users/bob/inbox', { qos: 1 })).rejects.toThrow(/Not authorized/);
    await ada.endAsync();
  });
});
