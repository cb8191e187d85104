import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

// The shipped broker process (`npm start` runs it), for tests of what only the whole app does.
const MAIN = resolve(__dirname, '../../../../apps/broker/dist/main.js');

export interface AppProcess {
  child: ChildProcess;
  /** Bound ports from the log: `tcp`, `ws`, `http`. */
  ports: Record<string, number>;
  logs: Record<string, unknown>[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Loopback listeners on ports the OS picks. */
export const LOCAL_PORTS = {
  FLUXMQ_LISTENERS_TCP_HOST: '127.0.0.1',
  FLUXMQ_LISTENERS_TCP_PORT: '0',
  FLUXMQ_LISTENERS_WS_HOST: '127.0.0.1',
  FLUXMQ_LISTENERS_WS_PORT: '0',
  FLUXMQ_HTTP_HOST: '127.0.0.1',
  FLUXMQ_HTTP_PORT: '0',
};

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

export function runApp(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    // No database in the working tree unless a test asks for one (and gives it a temporary path).
    env: { PATH: process.env['PATH'] ?? '', FLUXMQ_PERSISTENCE_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the app and resolves once the admin HTTP server listens; its JSON log lines are collected. */
export function startApp(args: string[], env: Record<string, string>): Promise<AppProcess> {
  const child = runApp(args, env);
  const logs: Record<string, unknown>[] = [];
  const ports: Record<string, number> = {};
  const stop = () => {
    const exited = exitOf(child);
    child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        if (line['msg'] === 'listener started') ports[line['listener'] as string] = line['port'] as number;
        if (line['msg'] === 'admin http listening') {
          ports['http'] = line['port'] as number;
          resolvePromise({ child, ports, logs, stop });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
}
