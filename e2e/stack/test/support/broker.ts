import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from './repo';
import { stopProcess } from './processes';

/** The shipped process, as `npm start` and the Docker image run it. */
export const BROKER_MAIN = repoPath('apps/broker/dist/main.js');

export interface BrokerProcess {
  readonly child: ChildProcess;
  /** Listener name -> port: tcp, ws, and http (admin: /healthz, /metrics). */
  readonly ports: Readonly<Record<string, number>>;
  readonly logs: readonly Record<string, unknown>[];
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node apps/broker/dist/main.js` on free loopback ports and resolves once the admin HTTP server
 * listens, with the ports read from the JSON log lines "listener started" and "admin http listening".
 */
export function startBrokerProcess(env: Record<string, string>, timeoutMs = 15000): Promise<BrokerProcess> {
  if (!existsSync(BROKER_MAIN)) {
    return Promise.reject(new Error(`${BROKER_MAIN} is missing: run npx nx run broker:build first`));
  }
  // Its own database, so runs neither share state nor leave files in the working tree.
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxmq-stack-data-'));
  const child = spawn(process.execPath, [BROKER_MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      FLUXMQ_PERSISTENCE_PATH: join(dataDir, 'fluxmq.db'),
      FLUXMQ_LISTENERS_TCP_HOST: '127.0.0.1',
      FLUXMQ_LISTENERS_TCP_PORT: '0',
      FLUXMQ_LISTENERS_WS_HOST: '127.0.0.1',
      FLUXMQ_LISTENERS_WS_PORT: '0',
      FLUXMQ_HTTP_HOST: '127.0.0.1',
      FLUXMQ_HTTP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const ports: Record<string, number> = {};
  let stderr = '';
  child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const broker: BrokerProcess = { child, ports, logs, stderr: () => stderr, stop: () => stopProcess(child) };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      void stopProcess(child);
      reject(new Error(`the broker did not report its admin port within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let buffered = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: unknown;
        try {
          line = JSON.parse(text);
        } catch {
          continue; // not a log line of ours (e.g. a library's warning)
        }
        if (line === null || typeof line !== 'object' || Array.isArray(line)) continue;
        const record = line as Record<string, unknown>;
        logs.push(record);
        if (record['msg'] === 'listener started' && typeof record['port'] === 'number') {
          ports[String(record['listener'])] = record['port'];
        }
        if (record['msg'] === 'admin http listening' && typeof record['port'] === 'number') {
          ports['http'] = record['port'];
          clearTimeout(timer);
          resolvePromise(broker);
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the broker exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
}
