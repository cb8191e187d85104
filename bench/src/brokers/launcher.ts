import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { sleep } from '../measure';
import { listeningInodes, socketInodes } from '../proc';
import type { BrokerName } from '../types';

export const HOST = '127.0.0.1';

export interface RunningBroker {
  pid: number;
  host: string;
  port: number;
  stop(): Promise<void>;
  /** The broker's own counters (FluxMQ: spans exported, dropped, shed), read after the load, outside the measurement. */
  counters?(): Promise<Record<string, number>>;
  /** FluxMQ's admin HTTP API, e.g. to change the sampling ratio while it runs. */
  adminUrl?: string;
}

/** What may vary per start: FluxMQ takes extra FLUXMQ_* settings (the telemetry mode's configurations). */
export interface StartOptions {
  env?: Record<string, string>;
}

export interface BrokerLauncher {
  name: BrokerName;
  label: string;
  /** Why this broker cannot run here, or null if it can. */
  unavailable(): string | null;
  version(): string;
  start(options?: StartOptions): Promise<RunningBroker>;
}

/** How to run a broker on given ports; made anew for every attempt, since a retry means new ports. */
export interface SpawnPlan {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Runs after the process is gone, e.g. to remove a generated config. */
  cleanup?: () => void;
}

export interface LaunchOptions {
  name: string;
  /** How many ports the broker listens on (FluxMQ: MQTT and admin HTTP); the first is its MQTT port. */
  ports: number;
  plan: (ports: number[]) => SpawnPlan;
  /** Starts on fresh ports before giving up (default 4). */
  attempts?: number;
  /** Per attempt (default 20 s): a broker that neither listens nor exits is not a port race; no retry. */
  timeoutMs?: number;
  /** Where the ports come from (default: free ones); tests hand out a taken one. */
  pickPorts?: (count: number) => Promise<number[]>;
  log?: (message: string) => void;
}

export interface LaunchedBroker extends RunningBroker {
  /** All the ports it listens on, in the order the plan got them. */
  ports: number[];
}

// Every broker process ever started, so SIGINT, errors and exit can always kill what is left.
const live = new Set<ChildProcess>();

export function killAllBrokers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Distinct ports that were free a moment ago (all held at once while picking, so no two are the same).
 * Brokers cannot report a port-0 choice back in a common way, hence picking and then checking.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, HOST, () => {
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/**
 * Who listens on a port: only the process `pid` ('own'), also or only another process ('other': with
 * SO_REUSEPORT two may share it, and connections would then reach either), or nobody.
 */
export function portListener(port: number, pid: number): 'own' | 'other' | 'none' {
  const listening = listeningInodes(port);
  if (listening.size === 0) return 'none';
  const own = socketInodes(pid);
  return [...listening].every((inode) => own.has(inode)) ? 'own' : 'other';
}

/** How long another process may hold one of the ports before the start counts as lost. */
const TAKEN_GRACE_MS = 1000;

/** A start that failed in a way new ports may cure: the broker exited, or another process has a port. */
class PortRace extends Error {
  constructor(
    /** One line for the retry's log. */
    readonly reason: string,
    output: string,
  ) {
    super(`${reason}:\n${output.trim()}`);
  }
}

/**
 * Starts a broker and resolves once every one of its ports is LISTENING on a socket of the broker's own
 * process. Between picking a free port and the broker binding it, another process (a parallel test suite
 * on port 0) may take it; then the broker exits, or keeps running without that listener, while the port
 * answers for someone else. Either way the broker is stopped and started again on new ports.
 */
export async function launchBroker(options: LaunchOptions): Promise<LaunchedBroker> {
  const attempts = options.attempts ?? 4;
  const pick = options.pickPorts ?? freePorts;
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  for (let attempt = 1; ; attempt++) {
    const ports = await pick(options.ports);
    try {
      return await spawnOnce(options.name, ports, options.plan(ports), options.timeoutMs ?? 20_000);
    } catch (err) {
      if (!(err instanceof PortRace) || attempt >= attempts) throw err;
      log(`${err.reason}; starting again on new ports (${attempt}/${attempts - 1})`);
    }
  }
}

/** Spawns the broker itself (never through a shell), so `pid` is the process whose CPU and memory count. */
async function spawnOnce(
  name: string,
  ports: number[],
  plan: SpawnPlan,
  timeoutMs: number,
): Promise<LaunchedBroker> {
  // FLUXMQ_* from the caller's shell would silently change what is measured; only ours apply.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXMQ_')),
  );
  const child = spawn(plan.command, plan.args, {
    env: { ...inherited, ...plan.env },
    cwd: plan.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  let hasExited = false;
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      hasExited = true;
      live.delete(child);
      resolve();
    }),
  );

  const stop = async (): Promise<void> => {
    if (!hasExited) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    plan.cleanup?.();
  };

  try {
    return { pid: await waitUntilListening(), host: HOST, port: ports[0], ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }

  async function waitUntilListening(): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let takenSince: number | undefined;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`${name} failed to start: ${spawnError.message}`);
      // 'close' comes after the output is read to the end, so the message says why it exited.
      if (hasExited) {
        const last = output.trim().split('\n').pop();
        throw new PortRace(`${name} exited during startup${last ? ` (${last.trim()})` : ''}`, output);
      }
      const pid = child.pid;
      if (pid !== undefined) {
        const holders = ports.map((port) => portListener(port, pid));
        if (holders.every((h) => h === 'own')) return pid;
        // Not at first sight: the broker may be about to exit with its own message, or the other process
        // may have held the port only for a moment (another launcher picking a free port).
        const taken = ports.find((_, i) => holders[i] === 'other');
        if (taken === undefined) takenSince = undefined;
        else if ((takenSince ??= Date.now()) < Date.now() - TAKEN_GRACE_MS) {
          throw new PortRace(`${name}: port ${taken} is held by another process`, output);
        }
      }
      await Promise.race([sleep(50), exited]);
    }
    throw new Error(
      `${name} did not listen on ports ${ports.join(', ')} within ${timeoutMs} ms:\n${output.trim()}`,
    );
  }
}
