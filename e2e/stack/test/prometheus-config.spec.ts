import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from './support/processes';
import { liveScrapeConfig, PROMTOOL_BIN } from './support/prometheus';
import { arrayAt, isRecord, readRepoFile, repoPath } from './support/repo';

function job(name: string): Record<string, unknown> {
  const config: unknown = parse(readRepoFile('prometheus/prometheus.yml'));
  const found = arrayAt(config, 'scrape_configs', 'prometheus.yml').find(
    (j) => isRecord(j) && j['job_name'] === name,
  );
  if (!isRecord(found)) throw new Error(`no scrape job ${name}`);
  return found;
}

function targets(scrapeJob: Record<string, unknown>): string[] {
  return arrayAt(scrapeJob, 'static_configs', 'job').flatMap((c) =>
    isRecord(c) && Array.isArray(c['targets']) ? c['targets'].map(String) : [],
  );
}

describe('prometheus/prometheus.yml', () => {
  it('passes promtool check config', async () => {
    const result = await run(PROMTOOL_BIN, ['check', 'config', repoPath('prometheus/prometheus.yml')]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('scrapes the broker at broker:8080/metrics every 5 s and the collector exporter at otel-collector:8889', () => {
    const broker = job('fluxmq');
    expect(targets(broker)).toEqual(['broker:8080']);
    expect(broker['metrics_path'] ?? '/metrics').toBe('/metrics');
    expect(broker['scrape_interval']).toBe('5s');
    expect(targets(job('otel-collector'))).toEqual(['otel-collector:8889']);
  });

  it('stays valid as the live test rewrites it (broker job only, on 127.0.0.1, every second)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxmq-stack-promcfg-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, liveScrapeConfig('127.0.0.1:18080'));
      const result = await run(PROMTOOL_BIN, ['check', 'config', file]);
      expect(result.stdout + result.stderr).toContain('SUCCESS');
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
