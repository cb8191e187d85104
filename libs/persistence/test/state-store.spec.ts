import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Properties } from '@fluxmq/codec';
import { Message, silentLogger } from '@fluxmq/engine';
import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataSource } from '../src';
import { sqliteHandle } from '../src/data-source';
import { propertiesFromJson, propertiesToJson } from '../src/properties-json';
import { SqliteStateStore } from '../src/state-store';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(durability: 'commit' | 'interval'): Promise<{ ds: DataSource; store: SqliteStateStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxmq-state-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const ds = await openDataSource({ path: join(dir, 'fluxmq.db'), synchronous: 'normal' });
  cleanups.push(() => ds.destroy());
  const store = new SqliteStateStore(sqliteHandle(ds), { durability, flushIntervalMs: 20 }, silentLogger);
  cleanups.push(() => store.close());
  return { ds, store };
}

const retained = (topic: string, payload: string) =>
  new Message(topic, Buffer.from(payload), 1, true, undefined, 'pub', 0).own();

describe('SqliteStateStore', () => {
  it('commit durability: holds acknowledgements until the group is committed', async () => {
    const { ds, store } = await open('commit');
    expect(store.holdsAcks).toBe(false);
    store.retainedSet(retained('a/b', 'one'));
    expect(store.holdsAcks).toBe(true);
    let acknowledged = false;
    store.afterCommit(() => (acknowledged = true));
    expect(acknowledged).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(acknowledged).toBe(true);
    expect(store.holdsAcks).toBe(false);
    expect(await ds.query('SELECT topic FROM retained_messages')).toEqual([{ topic: 'a/b' }]);
  });

  it('interval durability: never holds acknowledgements, commits within the interval', async () => {
    const { ds, store } = await open('interval');
    store.retainedSet(retained('a/b', 'one'));
    expect(store.holdsAcks).toBe(false);
    expect(await ds.query('SELECT topic FROM retained_messages')).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(await ds.query('SELECT topic FROM retained_messages')).toEqual([{ topic: 'a/b' }]);
  });

  it('keeps changes and held acknowledgements through a failed commit and retries', async () => {
    const { ds, store } = await open('commit');
    const schema = (await ds.query(`SELECT sql FROM sqlite_master WHERE name = 'retained_messages'`)) as {
      sql: string;
    }[];
    await ds.query('DROP TABLE retained_messages'); // every commit now fails
    store.retainedSet(retained('a/b', 'kept'));
    let acknowledged = false;
    store.afterCommit(() => (acknowledged = true));
    store.commit();
    expect(store.stats.commitFailures).toBe(1);
    expect(acknowledged).toBe(false);
    expect(store.holdsAcks).toBe(true);
    await ds.query(schema[0].sql);
    await new Promise((r) => setTimeout(r, 1200)); // the retry
    expect(acknowledged).toBe(true);
    expect(await ds.query('SELECT topic, payload FROM retained_messages')).toEqual([
      { topic: 'a/b', payload: Buffer.from('kept') },
    ]);
  });

  it('writes only the last state of a topic changed several times in one group', async () => {
    const { ds, store } = await open('commit');
    store.retainedSet(retained('t', 'first'));
    store.retainedSet(retained('t', 'second'));
    store.retainedDeleted('gone');
    store.commit();
    expect(store.stats.commitRows).toBe(2);
    expect(await ds.query('SELECT payload FROM retained_messages')).toEqual([
      { payload: Buffer.from('second') },
    ]);
  });
});

describe('properties as JSON', () => {
  it('round-trips binary Correlation Data and repeated user properties', () => {
    const props: Properties = {
      correlationData: Buffer.from([0, 255, 7]),
      userProperties: [
        ['a', '1'],
        ['b', 'x'],
        ['b', 'y'],
      ],
      contentType: 'text/plain',
    };
    expect(propertiesFromJson(propertiesToJson(props))).toEqual(props);
    expect(propertiesToJson(undefined)).toBeNull();
  });
});
