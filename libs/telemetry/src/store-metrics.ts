import { Counter, Gauge, Histogram, type Registry, type RegistryContentType } from 'prom-client';

/** What the persistence store tallies (see `@fluxmq/persistence`'s SqliteStateStore). */
export interface StoreMetricsSource {
  readonly stats: { readonly commits: number; readonly commitRows: number; readonly commitFailures: number };
  onCommit: ((seconds: number) => void) | undefined;
  /** Sessions, wills and retained topics with changes not yet committed. */
  readonly pendingChanges: number;
}

/** Group-commit timings of SQLite: a commit too slow for the load shows up here before acks stall. */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * Registers the store's metrics in each registry. Each gets its own metric objects: prom-client renames a
 * counter's family for an OpenMetrics registry, so one object cannot serve both formats.
 */
export function registerStoreMetrics(
  registries: Registry<RegistryContentType>[],
  store: StoreMetricsSource,
): void {
  const s = store.stats;
  const durations = registries.map((registry) => {
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    counter(
      'fluxmq_store_commits_total',
      'SQLite transactions committed by the persistence store',
      () => s.commits,
    );
    counter(
      'fluxmq_store_commit_failures_total',
      'Commits that failed and were retried',
      () => s.commitFailures,
    );
    counter(
      'fluxmq_store_rows_written_total',
      'Rows inserted, updated or deleted by commits',
      () => s.commitRows,
    );
    new Gauge({
      name: 'fluxmq_store_pending_changes',
      help: 'Sessions, wills and retained topics with changes waiting for the next commit',
      registers: [registry],
      collect() {
        this.set(store.pendingChanges);
      },
    });
    return new Histogram({
      name: 'fluxmq_store_commit_duration_seconds',
      help: 'Time one group commit took',
      buckets: COMMIT_BUCKETS,
      registers: [registry],
    });
  });
  store.onCommit = (seconds) => {
    for (const histogram of durations) histogram.observe(seconds);
  };
}
