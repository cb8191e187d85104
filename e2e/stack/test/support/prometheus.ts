import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { arrayAt, isRecord, readRepoFile } from './repo';
import { freePort, stopProcess, waitFor } from './processes';

/** Debian's package `prometheus` (scripts/ensure-test-deps.sh installs it). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

/**
 * prometheus/prometheus.yml as the compose stack uses it, with only the broker's job kept, pointed at a
 * broker on this machine and scraping every second so a test needs seconds, not minutes, of samples.
 */
export function liveScrapeConfig(brokerTarget: string): string {
  const config: unknown = parse(readRepoFile('prometheus/prometheus.yml'));
  const jobs = arrayAt(config, 'scrape_configs', 'prometheus/prometheus.yml');
  const job = jobs.find((j) => isRecord(j) && j['job_name'] === 'fluxmq');
  if (!isRecord(job)) throw new Error('prometheus/prometheus.yml has no job "fluxmq"');
  const global = isRecord(config) && isRecord(config['global']) ? config['global'] : {};
  return stringify({
    global: { ...global, scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      { ...job, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [brokerTarget] }] },
    ],
  });
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromQueryResult {
  resultType: string;
  result: PromSample[];
}

export interface PrometheusServer {
  readonly url: string;
  readonly child: ChildProcess;
  query(expr: string): Promise<PromQueryResult>;
  /** GET on the HTTP API; the `data` of a successful answer. */
  api(path: string, params: Record<string, string>): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts a real Prometheus on a free loopback port with `configYaml` and a throwaway TSDB. */
export async function startPrometheus(configYaml: string): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus (scripts/ensure-test-deps.sh)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fluxmq-stack-prom-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, configYaml);
  const port = await freePort();
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const api = async (path: string, params: Record<string, string>): Promise<unknown> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`);
    const body: unknown = await response.json();
    if (!isRecord(body) || body['status'] !== 'success') {
      const error = isRecord(body) ? `${String(body['errorType'])}: ${String(body['error'])}` : 'no JSON';
      throw new Error(`Prometheus ${path} answered ${response.status}: ${error}`);
    }
    return body['data'];
  };
  const query = async (expr: string): Promise<PromQueryResult> => {
    const data = await api('/api/v1/query', { query: expr });
    if (!isRecord(data) || !Array.isArray(data['result'])) throw new Error(`unexpected answer to ${expr}`);
    return { resultType: String(data['resultType']), result: data['result'] as PromSample[] };
  };
  try {
    await waitFor(
      'Prometheus to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
        const response = await fetch(`${url}/-/ready`);
        return response.ok ? true : undefined;
      },
      15000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, child, query, api, stop };
}
