import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FluxConfigInput } from '@fluxmq/config';
import { sleep } from './wait';

export const MOSQUITTO_BIN = process.env['MOSQUITTO_BIN'] ?? '/usr/sbin/mosquitto';

/** Thrown for overrides Mosquitto has no option for: the test using them must be `fluxOnly`. */
export class UnsupportedOnMosquitto extends Error {
  override readonly name = 'UnsupportedOnMosquitto';
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Translates FluxMQ overrides into mosquitto.conf lines. Keys without a Mosquitto equivalent throw, so a
 * test cannot silently run against Mosquitto with a configuration it did not get.
 */
export function mosquittoOptions(overrides: FluxConfigInput): {
  lines: string[];
  listenerLines: string[];
  websockets: boolean;
} {
  const lines: string[] = [];
  // Options Mosquitto scopes to the listener they follow.
  const listenerLines: string[] = [];
  let websockets = true;
  const unsupported = (path: string, value: unknown): never => {
    throw new UnsupportedOnMosquitto(
      `override ${path}=${JSON.stringify(value)} has no Mosquitto equivalent; mark the test fluxOnly`,
    );
  };
  const o: Plain = overrides as Plain;
  for (const [section, body] of Object.entries(o)) {
    if (body === undefined) continue;
    if (section === 'log' || section === 'dataDir' || section === 'http') continue; // no behavioural effect
    if (!isPlain(body)) unsupported(section, body);
    const b = body as Plain;
    if (section === 'listeners') {
      for (const [name, listener] of Object.entries(b)) {
        if (!isPlain(listener)) unsupported(`listeners.${name}`, listener);
        const l = listener as Plain;
        for (const [key, value] of Object.entries(l)) {
          if (name === 'ws' && key === 'enabled') websockets = value !== false;
          else if ((key === 'host' && value === '127.0.0.1') || (key === 'port' && value === 0)) continue;
          else if (name === 'ws' && key === 'path' && value === '/mqtt') continue;
          else unsupported(`listeners.${name}.${key}`, value);
        }
      }
    } else if (section === 'sys') {
      const enabled = b['enabled'] !== false;
      const interval = typeof b['intervalSeconds'] === 'number' ? b['intervalSeconds'] : 10;
      lines.push(`sys_interval ${enabled ? interval : 0}`);
    } else if (section === 'mqtt') {
      const inflight = new Set<number>();
      for (const [key, value] of Object.entries(b)) {
        if (value === undefined) continue;
        switch (key) {
          case 'maxPacketSize':
            lines.push(`max_packet_size ${Number(value)}`);
            break;
          case 'maxKeepAlive':
            // Mosquitto refuses max_keepalive values below 10.
            if (typeof value === 'number' && value > 0 && value < 10) unsupported(`mqtt.${key}`, value);
            lines.push(`max_keepalive ${value === 0 ? 65535 : Number(value)}`);
            break;
          // Mosquitto has one knob for both directions: the Receive Maximum it advertises and the window it
          // keeps towards each client.
          case 'maxInflight':
          case 'receiveMaximum':
            inflight.add(Number(value));
            break;
          case 'maxQueuedMessages':
            // 0 means "unlimited" to Mosquitto.
            if (value === 0) unsupported(`mqtt.${key}`, value);
            lines.push(`max_queued_messages ${Number(value)}`);
            break;
          case 'queueOverflow':
            // Mosquitto always drops the new message when the queue is full.
            if (value !== 'drop-new') unsupported(`mqtt.${key}`, value);
            break;
          case 'queueQos0':
            lines.push(`queue_qos0_messages ${value === true}`);
            break;
          case 'maxQos':
            listenerLines.push(`max_qos ${Number(value)}`);
            break;
          case 'retainAvailable':
            lines.push(`retain_available ${value === true}`);
            break;
          case 'topicAliasMaximum':
            listenerLines.push(`max_topic_alias ${Number(value)}`);
            break;
          default:
            unsupported(`mqtt.${key}`, value);
        }
      }
      if (inflight.size > 1) unsupported('mqtt.maxInflight/receiveMaximum (different values)', [...inflight]);
      for (const value of inflight) lines.push(`max_inflight_messages ${value}`);
    } else {
      unsupported(section, body);
    }
  }
  return { lines, listenerLines, websockets };
}

/** `count` distinct free loopback ports (all held open at once, so the kernel cannot hand out one twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : 0);
          });
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface MosquittoProcess {
  tcpPort: number;
  wsPort: number;
  close(): Promise<void>;
}

/** Spawns `mosquitto -c <generated conf>` on free ports and waits until its listeners accept connections. */
export async function spawnMosquitto(overrides: FluxConfigInput): Promise<MosquittoProcess> {
  const { lines, listenerLines, websockets } = mosquittoOptions(overrides);
  const dir = await mkdtemp(join(tmpdir(), 'fluxmq-e2e-mosquitto-'));
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const [tcpPort, wsPort = 0] = await freePorts(websockets ? 2 : 1);
    const conf = [
      'per_listener_settings false',
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'log_dest stderr',
      ...(process.env['FLUXMQ_E2E_MOSQUITTO_VERBOSE']
        ? ['log_type all']
        : ['log_type error', 'log_type warning']),
      ...(lines.some((l) => l.startsWith('sys_interval')) ? [] : ['sys_interval 0']),
      ...lines,
      `listener ${tcpPort} 127.0.0.1`,
      ...listenerLines,
      ...(websockets ? [`listener ${wsPort} 127.0.0.1`, 'protocol websockets', ...listenerLines] : []),
      '',
    ].join('\n');
    const confPath = join(dir, 'mosquitto.conf');
    await writeFile(confPath, conf);
    const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', confPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20000);
      if (process.env['FLUXMQ_E2E_MOSQUITTO_VERBOSE']) process.stderr.write(chunk);
    });
    let exited = false;
    let exitStatus = '';
    const exit = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = true;
        exitStatus = `exit code ${code}, signal ${signal}`;
        resolve();
      });
    });
    child.once('error', (err) => {
      exitStatus = `spawn error ${err.message}`;
    });
    const deadline = Date.now() + 5000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      if ((await canConnect(tcpPort)) && (!websockets || (await canConnect(wsPort)))) {
        ready = true;
        break;
      }
      await sleep(10);
    }
    if (ready && !exited) {
      return {
        tcpPort,
        wsPort,
        close: async () => {
          if (!exited) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
            await exit;
            clearTimeout(killer);
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    if (!exited) {
      child.kill('SIGKILL');
      await exit;
    }
    const retry = !exited || /address already in use/i.test(stderr);
    lastError = `attempt ${attempt + 1} on ports ${tcpPort}/${wsPort}: ${exitStatus || 'not listening after 5 s'}\n${stderr}`;
    if (!retry) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`mosquitto did not start:\n${lastError}`);
}
