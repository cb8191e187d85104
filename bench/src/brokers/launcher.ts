import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { sleep } from '../measure';
import type { BrokerName } from '../types';

export const HOST = '127.0.0.1';

export interface RunningBroker {
  pid: number;
  host: string;
  port: number;
  stop(): Promise<void>;
  /** The broker's own counters (FluxMQ: spans exported, dropped, shed), read after the load, outside the measurement. */
  counters?(): Promise<Record<string, number>>;
}

export interface BrokerLauncher {
  name: BrokerName;
  label: string;
  /** Why this broker cannot run here, or null if it can. */
  unavailable(): string | null;
  version(): string;
  start(): Promise<RunningBroker>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  port: number;
  /** Runs after the process is gone, e.g. to remove a generated config. */
  cleanup?: () => void;
}

// Every broker process ever started, so SIGINT, errors and exit can always kill what is left.
const live = new Set<ChildProcess>();

export function killAllBrokers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** A port that was free a moment ago; brokers cannot report a port-0 choice back in a common way. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns the broker itself (never through a shell), so `pid` is the process whose CPU and memory
 * /proc reports, and resolves once its TCP port accepts connections.
 */
export async function spawnBroker(options: SpawnOptions): Promise<RunningBroker> {
  // FLUXMQ_* from the caller's shell would silently change what is measured; only ours apply.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXMQ_')),
  );
  const child = spawn(options.command, options.args, {
    env: { ...inherited, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    live.delete(child);
  });

  const stop = async (): Promise<void> => {
    if (!hasExited) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    options.cleanup?.();
  };

  const failure = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${options.name} failed to start: ${err.message}`)));
    void exited.then(() => reject(new Error(`${options.name} exited during startup:\n${output.trim()}`)));
  });
  failure.catch(() => undefined);
  try {
    await Promise.race([waitForPort(options.port, 20_000), failure]);
  } catch (err) {
    await stop();
    throw err;
  }
  if (child.pid === undefined) throw new Error(`${options.name} has no pid`);
  return { pid: child.pid, host: HOST, port: options.port, stop };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(port)) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not accept connections within ${timeoutMs} ms`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
