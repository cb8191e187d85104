import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  allPanels,
  allQueries,
  DASHBOARDS_DIR,
  expandVariables,
  loadDashboards,
  metricNamesIn,
} from './support/dashboards';
import { run } from './support/processes';
import { PROMTOOL_BIN } from './support/prometheus';
import { arrayAt, isRecord, readRepoFile, recordAt } from './support/repo';

/** Where docker-compose.yml mounts grafana/dashboards inside the Grafana container. */
const DASHBOARDS_MOUNT = '/etc/grafana/dashboards';

function datasource(uid: string): Record<string, unknown> {
  const file: unknown = parse(readRepoFile('grafana/provisioning/datasources/datasources.yaml'));
  expect(isRecord(file) && file['apiVersion']).toBe(1);
  const found = arrayAt(file, 'datasources', 'datasources.yaml').find((d) => isRecord(d) && d['uid'] === uid);
  if (!isRecord(found)) throw new Error(`no datasource with uid ${uid}`);
  return found;
}

describe('Grafana provisioning', () => {
  it('provisions Prometheus (uid prometheus) with exemplar links to Jaeger (uid jaeger) by trace_id', () => {
    const prometheus = datasource('prometheus');
    expect(prometheus).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    const destinations = arrayAt(
      recordAt(prometheus, 'jsonData', 'prometheus datasource'),
      'exemplarTraceIdDestinations',
      'jsonData',
    );
    expect(destinations).toEqual([{ name: 'trace_id', datasourceUid: 'jaeger' }]);
    expect(datasource('jaeger')).toMatchObject({ type: 'jaeger', url: 'http://jaeger:16686' });
  });

  it('loads the dashboards folder through a file provider', () => {
    const file: unknown = parse(readRepoFile('grafana/provisioning/dashboards/dashboards.yaml'));
    expect(isRecord(file) && file['apiVersion']).toBe(1);
    const providers = arrayAt(file, 'providers', 'dashboards.yaml');
    expect(providers).toHaveLength(1);
    const provider = providers[0];
    expect(provider).toMatchObject({ type: 'file', options: { path: DASHBOARDS_MOUNT } });
    const compose = readRepoFile('docker-compose.yml');
    expect(compose).toContain(`./grafana/dashboards:${DASHBOARDS_MOUNT}:ro`);
    // The home dashboard Grafana opens is one of them.
    const home = /GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: (\S+)/.exec(compose)?.[1] ?? '';
    expect(home.startsWith(`${DASHBOARDS_MOUNT}/`)).toBe(true);
    expect(existsSync(join(DASHBOARDS_DIR, basename(home)))).toBe(true);
  });
});

describe('grafana/dashboards', () => {
  const dashboards = loadDashboards();

  it('holds the FluxMQ overview, and dashboards with unique uids', () => {
    expect(dashboards.map((d) => d.file)).toContain('grafana/dashboards/fluxmq-overview.json');
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(dashboards.map((d) => [d.file, d] as const))(
    '%s: unique panel ids, Prometheus uid everywhere',
    (_, d) => {
      const panels = allPanels(d.dashboard);
      const ids = panels.map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
      expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
      for (const panel of panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource, `panel ${panel.id} ${panel.title}`).toEqual({
          type: 'prometheus',
          uid: 'prometheus',
        });
        expect(panel.targets?.length, `panel ${panel.id} ${panel.title} has queries`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.datasource?.uid ?? 'prometheus', `panel ${panel.id} ${target.refId}`).toBe(
            'prometheus',
          );
          expect(target.expr?.trim(), `panel ${panel.id} ${target.refId} has an expr`).toBeTruthy();
        }
        const refIds = (panel.targets ?? []).map((t) => t.refId);
        expect(new Set(refIds).size, `panel ${panel.id} refIds`).toBe(refIds.length);
      }
      for (const variable of d.dashboard.templating?.list ?? []) {
        if (variable.type === 'query') expect(variable.datasource?.uid).toBe('prometheus');
      }
    },
  );

  it('shows exemplars on the delivery latency quantiles', () => {
    const latency = allQueries(dashboards).filter(
      (q) =>
        q.expr.includes('histogram_quantile') && q.expr.includes('fluxmq_delivery_latency_seconds_bucket'),
    );
    expect(latency.map((q) => q.expr.match(/histogram_quantile\((0\.\d+)/)?.[1])).toEqual(
      expect.arrayContaining(['0.5', '0.9', '0.99']),
    );
    expect(
      latency.filter((q) => q.panel.type === 'timeseries').every((q) => q.target.exemplar === true),
    ).toBe(true);
  });

  it('covers the metric catalog: each panel group reads the metrics it is about', () => {
    const read = new Set(allQueries(dashboards).flatMap((q) => metricNamesIn(q.expr)));
    for (const name of [
      'fluxmq_connections',
      'fluxmq_connects_total',
      'fluxmq_disconnects_total',
      'fluxmq_messages_received_total',
      'fluxmq_messages_sent_total',
      'fluxmq_message_received_bytes_total',
      'fluxmq_message_sent_bytes_total',
      'fluxmq_messages_dropped_total',
      'fluxmq_delivery_latency_seconds_bucket',
      'fluxmq_authentications_total',
      'fluxmq_sessions',
      'fluxmq_subscriptions',
      'fluxmq_retained_messages',
      'fluxmq_inflight_messages',
      'fluxmq_queued_messages',
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'process_cpu_seconds_total',
    ]) {
      expect(read.has(name), name).toBe(true);
    }
  });

  it('every expression is valid PromQL (promtool check rules on them as recording rules)', async () => {
    const queries = allQueries(dashboards);
    const rules = queries.map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: expandVariables(q.expr, { instance: '.+' }),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'fluxmq-stack-rules-'));
    try {
      const file = join(dir, 'rules.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
      const result = await run(PROMTOOL_BIN, ['check', 'rules', file]);
      expect(result.stdout + result.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
