import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IConnackPacket } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { exitOf, LOCAL_PORTS, runApp, startApp } from './support';

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
    const app = await startApp(['--config', file], { ...LOCAL_PORTS, FLUXMQ_MQTT_MAX_PACKET_SIZE: '4096' });
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
    expect(await app.stop()).toBe(0);
  });

  it('refuses an invalid configuration with exit code 2 and says which setting is wrong', async () => {
    const child = runApp([], { ...LOCAL_PORTS, FLUXMQ_MQTT_MAX_QOS: '3' });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exitOf(child)).toBe(2);
    expect(stderr).toContain('mqtt.maxQos');
  });
});
