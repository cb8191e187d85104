import type { PersistenceConfig } from '@fluxmq/config';
import type { Broker, Logger } from '@fluxmq/engine';
import type { DataSource } from 'typeorm';
import { openDataSource, sqliteHandle } from './data-source';
import { restoreState, type RestoreSummary } from './restore';
import { SqliteRetainedStore } from './retained-store';
import { SqliteStateStore } from './state-store';

/** The broker's SQLite database: the stores the engine writes to, and TypeORM for everything else. */
export interface Persistence {
  readonly dataSource: DataSource;
  /** Give to the engine as `BrokerOptions.store`. */
  readonly sessions: SqliteStateStore;
  /** Give to the engine as `BrokerOptions.retained`. */
  readonly retained: SqliteRetainedStore;
  /** Puts the stored state into a new broker; call before its listeners open. */
  restore(broker: Broker): Promise<RestoreSummary>;
  /** Commits what is pending and closes the database. */
  close(): Promise<void>;
}

export async function openPersistence(config: PersistenceConfig, log: Logger): Promise<Persistence> {
  const dataSource = await openDataSource(config);
  const sessions = new SqliteStateStore(sqliteHandle(dataSource), config, log);
  const retained = new SqliteRetainedStore(sessions);
  return {
    dataSource,
    sessions,
    retained,
    async restore(broker) {
      const summary = await restoreState(dataSource, broker, sessions, retained);
      log.info('persistent state restored', { path: config.path, ...summary });
      return summary;
    },
    async close() {
      sessions.close();
      await dataSource.destroy();
    },
  };
}
