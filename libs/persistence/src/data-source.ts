import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PersistenceConfig } from '@fluxmq/config';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { InitialSchema1764028800000 } from './migrations/1764028800000-initial-schema';

export const MIGRATIONS = [InitialSchema1764028800000];

/**
 * Opens (creating it and its folder if needed) the SQLite database and brings its schema up to date with
 * the migrations, before anything reads it. WAL lets a commit append instead of rewriting pages; with
 * `synchronous=NORMAL` a commit is durable against a crash of the process, with `FULL` also against a
 * crash of the machine, at the price of an fsync per commit.
 */
export async function openDataSource(
  config: Pick<PersistenceConfig, 'path' | 'synchronous'>,
): Promise<DataSource> {
  const database = config.path === ':memory:' ? config.path : resolve(config.path);
  if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    enableWAL: true,
    prepareDatabase: (db: Database) => {
      db.pragma(`synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    },
  });
  await dataSource.initialize();
  return dataSource;
}

/**
 * The better-sqlite3 handle under TypeORM. The message path uses it directly, with prepared statements in
 * one synchronous transaction per group commit: an ORM round trip per message would cost more than the
 * broker spends routing it.
 */
export function sqliteHandle(dataSource: DataSource): Database {
  return (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
}
