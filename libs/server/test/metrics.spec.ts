import { loadConfig } from '@fluxmq/config';
import type { AuthResult } from '@fluxmq/engine';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerServer, type BrokerServer } from '../src';

interface Sample {
  name: string;
  labels: string;
  value: number;
}

function parse(text: string): { samples: Sample[]; families: Map<string, string> } {
  const samples: Sample[] = [];
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) families.set(type[1], type[2]);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (m && !line.startsWith('#')) samples.push({ name: m[1], labels: m[2] ?? '', value: Number(m[3]) });
  }
  return { samples, families };
}

describe('Prometheus metrics', () => {
  let server: BrokerServer;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    clients.length = 0;
    await server.close();
  });

  async function connect(options: mqtt.IClientOptions): Promise<MqttClient> {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports['tcp']}`, {
      reconnectPeriod: 0,
      ...options,
    });
    clients.push(c);
    return c;
  }

  it('records every fluxmq_* metric it defines, with bounded labels', async () => {
    const authenticator = {
      authenticate: (req: { username: string | undefined }): AuthResult =>
        req.username === 'bad' ? { ok: false, reasonCode: 0x86 } : { ok: true },
    };
    const config = loadConfig({
      env: {},
      overrides: {
        log: { level: 'silent' },
        sys: { enabled: false },
        persistence: { enabled: false },
        listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
        mqtt: { maxQueuedMessages: 1, maxSubscriptionsPerClient: 2 },
      },
    });
    const authorizer = {
      canPublish: () => true,
      canSubscribe: (_c: unknown, filter: string) => filter !== 'forbidden/#',
    };
    server = await startBrokerServer(config, { hooks: { authenticator, authorizer } });

    await expect(connect({ username: 'bad', protocolVersion: 5 })).rejects.toThrow();
    const sub = await connect({ clientId: 'client-sub-7', protocolVersion: 5 });
    await expect(sub.subscribeAsync('forbidden/#', { qos: 0 })).rejects.toThrow('Not authorized');
    await sub.subscribeAsync('m/#', { qos: 2 });
    await sub.subscribeAsync('$share/g/s/#', { qos: 1 });
    await expect(sub.subscribeAsync('one/too/many', { qos: 0 })).rejects.toThrow('Quota exceeded'); // quota of 2
    const pub = await connect({ protocolVersion: 4 });
    const got = new Promise<void>((resolve) => {
      let n = 0;
      sub.on('message', () => ++n === 3 && resolve());
    });
    await pub.publishAsync('m/0', 'zero', { qos: 0 });
    await pub.publishAsync('m/1', 'one', { qos: 1, retain: true });
    await pub.publishAsync('m/2', 'two', { qos: 2 });
    await got;
    await pub.publishAsync('nobody/here', 'x', { qos: 1 }); // dropped: no subscribers
    const offline = await connect({ clientId: 'client-offline-9', clean: false, protocolVersion: 4 });
    await offline.subscribeAsync('q/#', { qos: 1 });
    await offline.endAsync();
    for (let i = 0; i < 3; i++) await pub.publishAsync('q/x', `${i}`, { qos: 1 }); // queue of 1: 2 dropped

    const { samples, families } = parse(await server.metrics!.prometheus.metrics());
    const fluxmq = [...families.keys()].filter((name) => name.startsWith('fluxmq_'));
    expect(fluxmq.length).toBe(25);
    const value = (name: string, labels = '') =>
      samples.filter((s) => s.name === name && s.labels.includes(labels)).reduce((a, s) => a + s.value, 0);

    // Every family has at least one non-zero sample after this traffic...
    const recorded = (family: string) =>
      samples.some((s) => (s.name === family || s.name.startsWith(`${family}_`)) && s.value > 0);
    for (const family of fluxmq) {
      if (family === 'fluxmq_inflight_messages') continue; // all acknowledged by now; checked below
      expect(recorded(family), family).toBe(true);
    }
    // ...and the numbers are the ones this traffic should produce.
    expect(value('fluxmq_connects_total', 'reason="bad_user_name_or_password"')).toBe(1);
    expect(value('fluxmq_authentications_total', 'result="failure"')).toBe(1);
    expect(value('fluxmq_authentications_total', 'result="success"')).toBe(3);
    expect(value('fluxmq_messages_received_total', 'qos="2"')).toBe(1);
    expect(value('fluxmq_messages_sent_total', 'qos="2"')).toBe(1);
    expect(value('fluxmq_messages_dropped_total', 'reason="no_subscribers"')).toBe(1);
    expect(value('fluxmq_messages_dropped_total', 'reason="queue_full"')).toBe(2);
    expect(value('fluxmq_queued_messages')).toBe(1);
    expect(value('fluxmq_subscribes_total', 'result="refused"')).toBe(2); // not authorized, over quota
    expect(value('fluxmq_authorization_denials_total', 'action="subscribe"')).toBe(1);
    expect(value('fluxmq_shared_subscription_groups')).toBe(1);
    expect(value('fluxmq_retained_messages')).toBe(1);
    expect(value('fluxmq_sessions', 'state="offline"')).toBe(1);
    expect(value('fluxmq_connections', 'protocol_version="5.0"')).toBe(1);
    expect(value('fluxmq_disconnects_total', 'cause="client_disconnect"')).toBe(1);
    expect(value('fluxmq_packets_received_total', 'type="pubrel"')).toBe(1);
    expect(value('fluxmq_delivery_latency_seconds_count')).toBe(3);
    expect(samples.some((s) => s.name === 'fluxmq_inflight_messages')).toBe(true);
    expect(families.get('fluxmq_delivery_latency_seconds')).toBe('histogram');
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    // No client ids as label values: label cardinality stays bounded.
    expect(samples.some((s) => /client-/.test(s.labels))).toBe(false);
  });
});
