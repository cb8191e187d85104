import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isRecord, readRepoFile, recordAt } from './support/repo';

// No collector binary can be installed here (only npm and Debian packages are reachable), so this checks
// the configuration's structure: what the collector itself would refuse at start, and the wiring.
const config: unknown = parse(readRepoFile('otel-collector/config.yaml'));
const service = recordAt(config, 'service', 'config.yaml');
const pipelines = recordAt(service, 'pipelines', 'service') as Record<string, Record<string, unknown>>;

function section(name: string): Record<string, unknown> {
  const found = isRecord(config) ? config[name] : undefined;
  return isRecord(found) ? found : {};
}

function list(pipeline: Record<string, unknown>, key: string): string[] {
  const value = pipeline[key];
  return Array.isArray(value) ? value.map(String) : [];
}

describe('otel-collector/config.yaml', () => {
  it('receives OTLP over gRPC on 4317 and HTTP on 4318 on all interfaces of the container', () => {
    const protocols = recordAt(recordAt(section('receivers'), 'otlp', 'receivers'), 'protocols', 'otlp');
    expect(recordAt(protocols, 'grpc', 'protocols')['endpoint']).toBe('0.0.0.0:4317');
    expect(recordAt(protocols, 'http', 'protocols')['endpoint']).toBe('0.0.0.0:4318');
  });

  it('defines every component a pipeline names, and uses every connector on both sides', () => {
    const connectors = Object.keys(section('connectors'));
    for (const [name, pipeline] of Object.entries(pipelines)) {
      for (const r of list(pipeline, 'receivers')) {
        expect(Object.keys(section('receivers')).concat(connectors), `${name} receiver ${r}`).toContain(r);
      }
      for (const p of list(pipeline, 'processors')) {
        expect(Object.keys(section('processors')), `${name} processor ${p}`).toContain(p);
      }
      for (const e of list(pipeline, 'exporters')) {
        expect(Object.keys(section('exporters')).concat(connectors), `${name} exporter ${e}`).toContain(e);
      }
    }
    for (const connector of connectors) {
      const pipes = Object.values(pipelines);
      expect(
        pipes.some((p) => list(p, 'exporters').includes(connector)),
        connector,
      ).toBe(true);
      expect(
        pipes.some((p) => list(p, 'receivers').includes(connector)),
        connector,
      ).toBe(true);
    }
    expect(list(service, 'extensions')).toEqual(Object.keys(section('extensions')));
  });

  it('limits memory first and batches in every pipeline', () => {
    for (const [name, pipeline] of Object.entries(pipelines)) {
      const processors = list(pipeline, 'processors');
      expect(processors[0], name).toBe('memory_limiter');
      expect(processors, name).toContain('batch');
    }
    expect(recordAt(section('processors'), 'memory_limiter', 'processors')['check_interval']).toBeDefined();
  });

  it('sends traces to Jaeger over OTLP and serves metrics for Prometheus on 8889', () => {
    const traces = recordAt(pipelines, 'traces', 'pipelines');
    const metrics = recordAt(pipelines, 'metrics', 'pipelines');
    const exporters = section('exporters');
    const jaeger = list(traces, 'exporters').find((e) => e === 'otlp' || e.startsWith('otlp/'));
    expect(jaeger).toBeDefined();
    const jaegerExporter = recordAt(exporters, jaeger!, 'exporters');
    expect(jaegerExporter['endpoint']).toBe('jaeger:4317');
    expect(recordAt(jaegerExporter, 'tls', jaeger!)['insecure']).toBe(true);
    expect(list(metrics, 'exporters')).toContain('prometheus');
    expect(recordAt(exporters, 'prometheus', 'exporters')['endpoint']).toBe('0.0.0.0:8889');
    expect(list(metrics, 'receivers')).toContain('otlp');
  });

  it('answers health checks on 13133', () => {
    const health = recordAt(section('extensions'), 'health_check', 'extensions');
    expect(health['endpoint']).toBe('0.0.0.0:13133');
  });
});
