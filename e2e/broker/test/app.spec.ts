import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type IConnackPacket } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';

// The shipped process, started as `npm start` starts it: built NestJS app, config file and FLUXMQ_* variables.
const MAIN = resolve(__dirname, '../../../apps/broker/dist/main.js');

interface Started {
  child: ChildProcess;
  ports: Record<string, number>;
  logs: Record<string, unknown>[];
}

function startApp(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const ports: Record<string, number> = {};
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
          resolvePromise({ child, ports, logs });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

const quiet = {
  FLUXMQ_LISTENERS_TCP_HOST: '127.0.0.1',
  FLUXMQ_LISTENERS_TCP_PORT: '0',
  FLUXMQ_LISTENERS_WS_HOST: '127.0.0.1',
  FLUXMQ_LISTENERS_WS_PORT: '0',
  FLUXMQ_HTTP_HOST: '127.0.0.1',
  FLUXMQ_HTTP_PORT: '0',
};

describe('the broker process', () => {
  let running: ChildProcess | undefined;
  afterEach(() => {
    running?.kill('SIGKILL');
    running = undefined;
  });

  it('starts from a config file and FLUXMQ_* variables, serves MQTT and health, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxmq-app-'));
    const file = join(dir, 'fluxmq.yaml');
    writeFileSync(file, 'mqtt:\n  maxQos: 1\nlisteners:\n  ws:\n    path: /custom\n');
    const app = await startApp(['--config', file], { ...quiet, FLUXMQ_MQTT_MAX_PACKET_SIZE: '4096' });
    running = app.child;

    const client = mqtt.connect(`mqtt://127.0.0.1:${app.ports['tcp']}`, { protocolVersion: 5 });
    const connack = await new Promise<IConnackPacket>((r) => client.once('connect', r));
    expect(connack.properties?.maximumQoS).toBe(1); // from the file
    expect(connack.properties?.maximumPacketSize).toBe(4096); // from the environment
    const ws = await mqtt.connectAsync(`ws://127.0.0.1:${app.ports['ws']}/custom`, { protocolVersion: 4 });
    await client.subscribeAsync('app/#', { qos: 1 });
    const got = new Promise<string>((r) => client.on('message', (_t, p) => r(p.toString())));
    await ws.publishAsync('app/x', 'over ws', { qos: 1 });
    expect(await got).toBe('over ws');

    const health = (await (await fetch(`http://127.0.0.1:${app.ports['http']}/healthz`)).json()) as Record<
      string,
      unknown
    >;
    expect(health).toMatchObject({ status: 'ok', clients: 2, listeners: { tcp: app.ports['tcp'] } });
    expect(app.logs.some((l) => l['msg'] === 'client connected' && l['protocolVersion'] === 5)).toBe(true);

    await Promise.all([client.endAsync(), ws.endAsync()]);
    const exited = exitOf(app.child);
    app.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses an invalid configuration with exit code 2 and says which setting is wrong', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', ...quiet, FLUXMQ_MQTT_MAX_QOS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exitOf(child)).toBe(2);
    expect(stderr).toContain('mqtt.maxQos');
  });
});
