import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startBrokerProcess, type BrokerProcess } from './support/broker';
import {
  allQueries,
  expandVariables,
  loadDashboards,
  metricNamesIn,
  regexOfValues,
  type PanelQuery,
} from './support/dashboards';
import { exemplarsIn, exposedSeriesNames } from './support/exposition';
import { startLoad, type Load } from './support/load';
import { startOtlpSink, type OtlpSink } from './support/otlp-sink';
import { run, waitFor } from './support/processes';
import { liveScrapeConfig, PROMTOOL_BIN, startPrometheus, type PrometheusServer } from './support/prometheus';
import { arrayAt, isRecord, readRepoFile } from './support/repo';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

/** GET /metrics, failing with a message that says what is missing rather than a parse error later. */
async function scrape(
  broker: BrokerProcess,
  accept?: string,
): Promise<{ text: string; contentType: string }> {
  const url = `http://127.0.0.1:${broker.ports['http']}/metrics`;
  const response = await fetch(url, accept ? { headers: { accept } } : {});
  if (!response.ok) {
    throw new Error(
      `/metrics returned ${response.status}: the broker does not serve Prometheus metrics yet ` +
        `(GET ${url}; libs/telemetry + apps/broker)`,
    );
  }
  return { text: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

/** The trace id (32 hex digits) of a W3C traceparent, 00-<trace id>-<span id>-<flags>. */
function traceIdOf(traceparent: string): string {
  return traceparent.split('-')[1] ?? '';
}

describe('the dashboards against a live broker scraped by a real Prometheus', () => {
  let sink: OtlpSink | undefined;
  let broker: BrokerProcess | undefined;
  let prometheus: PrometheusServer | undefined;
  let load: Load | undefined;
  let exposition = '';

  beforeAll(async () => {
    sink = await startOtlpSink();
    // As docker-compose.yml runs it: tracing on, every message sampled, OTLP/HTTP to "the collector".
    broker = await startBrokerProcess({
      FLUXMQ_LOG_LEVEL: 'info',
      FLUXMQ_SYS_INTERVAL_SECONDS: '1',
      FLUXMQ_TELEMETRY_TRACING_ENABLED: 'true',
      FLUXMQ_TELEMETRY_TRACING_SAMPLE_RATIO: '1',
      OTEL_SERVICE_NAME: 'fluxmq',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    exposition = (await scrape(broker)).text;
    const target = `127.0.0.1:${broker.ports['http']}`;
    // Both at once; each is kept as soon as it runs, so afterAll stops it even if the other failed.
    const started = await Promise.allSettled([
      startPrometheus(liveScrapeConfig(target)).then((p) => (prometheus = p)),
      startLoad(broker.ports).then((l) => (load = l)),
    ]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    // Enough scrapes for rate() over the 15 s that stand in for $__rate_interval: four samples at least.
    const prom = prometheus;
    if (!prom) throw new Error('Prometheus did not start');
    await waitFor(
      'Prometheus to scrape the broker under load',
      async () => {
        const up = await prom.query('up{job="fluxmq"} == 1');
        const samples = await prom.query('count_over_time(fluxmq_subscriptions[30s]) >= 4');
        return up.result.length > 0 && samples.result.length > 0 ? true : undefined;
      },
      20000,
      250,
    );
  });

  afterAll(async () => {
    await load?.stop();
    await prometheus?.stop();
    await broker?.stop();
    await sink?.close();
  });

  it('every panel query of every dashboard returns data', async () => {
    const prom = prometheus!;
    const instances = (await prom.api('/api/v1/label/instance/values', {
      'match[]': 'fluxmq_build_info',
    })) as string[];
    expect(instances, 'the dashboards variable "instance" finds the broker').toHaveLength(1);
    const queries = allQueries(loadDashboards());
    expect(queries.length).toBeGreaterThan(20);
    const failures: string[] = [];
    await Promise.all(
      queries.map(async ({ file, panel, target, expr }: PanelQuery) => {
        const promql = expandVariables(expr, { instance: regexOfValues(instances) });
        const where = `${file} panel ${panel.id} "${panel.title}" ${target.refId}: ${promql}`;
        try {
          const { result } = await prom.query(promql);
          if (process.env['FLUXMQ_E2E_STACK_VERBOSE']) {
            const values = result.map((r) => `${JSON.stringify(r.metric)}=${r.value[1]}`).join(' ');
            process.stdout.write(`${panel.title} ${target.refId}: ${values}\n`);
          }
          if (result.length === 0) failures.push(`${where}\n  -> empty result`);
          else if (!result.some((s) => Number.isFinite(Number(s.value[1])))) {
            failures.push(`${where}\n  -> only NaN/Inf: ${JSON.stringify(result.map((s) => s.value[1]))}`);
          }
        } catch (err) {
          failures.push(`${where}\n  -> ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('every metric the dashboards read is one the broker exposes', () => {
    const exposed = exposedSeriesNames(exposition);
    const missing = new Set<string>();
    for (const { expr } of allQueries(loadDashboards())) {
      for (const name of metricNamesIn(expr)) if (!exposed.has(name)) missing.add(name);
    }
    // `... or vector(0)` keeps a panel at zero when a series has no samples yet; this keeps that from
    // hiding a misspelt name.
    expect([...missing], `not in GET /metrics: ${[...missing].join(', ')}`).toEqual([]);
  });

  it('promtool check metrics finds no problems in GET /metrics', async () => {
    const { text } = await scrape(broker!);
    const result = await run(PROMTOOL_BIN, ['check', 'metrics'], { input: text, timeoutMs: 10000 });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('delivery latency exemplars carry the trace id label Grafana links to Jaeger, and Prometheus keeps them', async () => {
    const { text } = await scrape(broker!, OPENMETRICS);
    const datasources: unknown = parse(readRepoFile('grafana/provisioning/datasources/datasources.yaml'));
    const promDs = arrayAt(datasources, 'datasources', 'datasources.yaml').find(
      (d) => isRecord(d) && d['uid'] === 'prometheus',
    );
    const destinations = isRecord(promDs) && isRecord(promDs['jsonData']) ? promDs['jsonData'] : {};
    const [destination] = arrayAt(destinations, 'exemplarTraceIdDestinations', 'prometheus datasource');
    const label = isRecord(destination) ? String(destination['name']) : '';

    const exemplars = exemplarsIn(text).filter((e) => e.series === 'fluxmq_delivery_latency_seconds_bucket');
    expect(
      exemplars.length,
      'exemplars on fluxmq_delivery_latency_seconds_bucket (OpenMetrics)',
    ).toBeGreaterThan(0);
    for (const exemplar of exemplars) expect(exemplar.labels[label]).toMatch(/^[0-9a-f]{32}$/);

    const prom = prometheus!;
    const stored = await waitFor('exemplars in Prometheus', async () => {
      const data = await prom.api('/api/v1/query_exemplars', {
        query: 'fluxmq_delivery_latency_seconds_bucket',
        start: String(Date.now() / 1000 - 300),
        end: String(Date.now() / 1000 + 10),
      });
      return Array.isArray(data) && data.length > 0 ? data : undefined;
    });
    expect(JSON.stringify(stored)).toContain(`"${label}"`);
  });

  it('a 5.0 publish with a traceparent reaches a 5.0 subscriber with a traceparent of the same trace, exported over OTLP', async () => {
    const { sent, received } = load!.traced;
    const traceparents = await received;
    expect(traceparents.length, 'the subscriber got a traceparent user property').toBeGreaterThan(0);
    for (const tp of traceparents) expect(traceIdOf(tp)).toBe(traceIdOf(sent));
    // The delivery span is the broker's own: its id is not the publisher's.
    expect(traceparents.some((tp) => tp !== sent)).toBe(true);

    const traceIdBytes = Buffer.from(traceIdOf(sent), 'hex');
    const exported = await waitFor('the trace at the OTLP/HTTP endpoint', async () => {
      const hit = sink!.requests.find((r) => r.path === '/v1/traces' && r.body.includes(traceIdBytes));
      return hit;
    });
    expect(exported.contentType).toBe('application/x-protobuf'); // OTLP's default, the collector's too
    expect(exported.body.includes('fluxmq')).toBe(true); // service.name
  });
});
