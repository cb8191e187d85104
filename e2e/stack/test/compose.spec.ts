import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from './support/processes';
import { isRecord, readRepoFile, recordAt, repoPath, ROOT } from './support/repo';

// Debian's docker-compose 1.29 validates and normalizes the file without a Docker engine.
const DOCKER_COMPOSE = 'docker-compose';
const COMPOSE_FILE = repoPath('docker-compose.yml');

/** An image reference pinned to an exact release: name:1.2.3 or name:v1.2.3 (a digest may follow). */
const PINNED = /^[a-z0-9./_-]+:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/;

type Service = Record<string, unknown>;

function env(service: Service): Record<string, string> {
  const environment = service['environment'];
  return isRecord(environment)
    ? Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)]))
    : {};
}

function publishedPorts(service: Service): number[] {
  const ports = Array.isArray(service['ports']) ? service['ports'] : [];
  return ports.map((p) => (isRecord(p) ? Number(p['published']) : Number(String(p).split(':')[0])));
}

function volumes(service: Service): string[] {
  return (Array.isArray(service['volumes']) ? service['volumes'] : []).map(String);
}

describe('docker-compose.yml', () => {
  let services: Record<string, Service> = {};

  beforeAll(async () => {
    const quiet = await run(DOCKER_COMPOSE, ['-f', COMPOSE_FILE, 'config', '--quiet'], { cwd: ROOT });
    expect(quiet.stderr).toBe('');
    expect(quiet.code).toBe(0);
    const normalized = await run(DOCKER_COMPOSE, ['-f', COMPOSE_FILE, 'config'], { cwd: ROOT });
    expect(normalized.code).toBe(0);
    const config: unknown = parse(normalized.stdout);
    services = recordAt(config, 'services', 'docker-compose config') as Record<string, Service>;
  });

  it('has the broker and the observability services, and a console only as a commented placeholder', () => {
    expect(Object.keys(services).sort()).toEqual([
      'broker',
      'grafana',
      'jaeger',
      'otel-collector',
      'prometheus',
    ]);
    const lines = readRepoFile('docker-compose.yml')
      .split('\n')
      .map((line) => line.trim());
    expect(lines).toContain('# console:');
  });

  it('pins every image to an exact version, never latest', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service['build'] !== undefined && service['image'] === undefined) continue; // built here
      expect(String(service['image']), name).toMatch(PINNED);
    }
  });

  it('builds the broker from apps/broker/Dockerfile with the repository root as context', () => {
    const build = recordAt(services, 'broker', 'services')['build'];
    expect(build).toEqual({ context: ROOT, dockerfile: 'apps/broker/Dockerfile' });
    expect(existsSync(repoPath('apps/broker/Dockerfile'))).toBe(true);
  });

  it('runs the broker with its ports, a health check on /healthz, a data volume and tracing to the collector', () => {
    const broker = services['broker']!;
    expect(publishedPorts(broker).sort()).toEqual([1883, 8080, 8083]);
    expect(env(broker)).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_SERVICE_NAME: 'fluxmq',
      FLUXMQ_TELEMETRY_TRACING_ENABLED: 'true',
      FLUXMQ_TELEMETRY_TRACING_SAMPLE_RATIO: '1',
    });
    const healthcheck = recordAt(services, 'broker', 'services')['healthcheck'];
    expect(JSON.stringify(healthcheck)).toContain('/healthz');
    expect(volumes(broker)).toContain('broker-data:/app/data:rw');
  });

  it('wires the collector, Jaeger, Prometheus and Grafana to the files in this repository', () => {
    expect(publishedPorts(services['otel-collector']!)).toEqual(expect.arrayContaining([4317, 4318]));
    expect(publishedPorts(services['jaeger']!)).toContain(16686);
    expect(publishedPorts(services['prometheus']!)).toContain(9090);
    expect(publishedPorts(services['grafana']!)).toContain(3000);
    expect(volumes(services['otel-collector']!).join()).toContain(`${ROOT}/otel-collector/config.yaml:`);
    expect(volumes(services['prometheus']!).join()).toContain(`${ROOT}/prometheus/prometheus.yml:`);
    expect(services['prometheus']!['command']).toContain('--enable-feature=exemplar-storage');
    const grafanaMounts = volumes(services['grafana']!);
    expect(grafanaMounts).toContain(`${ROOT}/grafana/provisioning:/etc/grafana/provisioning:ro`);
    expect(grafanaMounts).toContain(`${ROOT}/grafana/dashboards:/etc/grafana/dashboards:ro`);
    // Every bind-mounted file or folder exists.
    for (const service of Object.values(services)) {
      for (const mount of volumes(service)) {
        const source = mount.split(':')[0] ?? '';
        if (source.startsWith('/')) expect(existsSync(source), mount).toBe(true);
      }
    }
  });

  it('turns off everything in Grafana that phones home, and installs no plugin', () => {
    const grafana = env(services['grafana']!);
    expect(grafana).toMatchObject({
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
      GF_PLUGINS_PREINSTALL_DISABLED: 'true',
    });
    expect(grafana['GF_INSTALL_PLUGINS']).toBeUndefined();
    expect(grafana['GF_PLUGINS_PREINSTALL']).toBeUndefined();
    // Anonymous viewers, or admin/admin as the README says.
    expect(grafana['GF_AUTH_ANONYMOUS_ENABLED']).toBe('true');
    expect(grafana['GF_AUTH_ANONYMOUS_ORG_ROLE']).toBe('Viewer');
  });
});
