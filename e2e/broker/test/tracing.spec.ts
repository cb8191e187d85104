import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { createPki } from '../../../libs/listeners/test/certificates';
import {
  exitOf,
  LOCAL_PORTS,
  OtlpReceiver,
  runApp,
  sleep,
  startApp,
  waitUntil,
  type AppProcess,
  type ReceivedSpan,
} from './support';

// OTLP span kinds (proto enum): 1 internal, 2 server, 4 producer, 5 consumer.
const KIND = { internal: 1, server: 2, producer: 4, consumer: 5 };

/**
 * A 3.1.1 client on a bare socket, connected: what it writes in one call reaches the broker in one read,
 * which MQTT.js does not promise.
 */
async function rawConnect(port: number, clientId: string): Promise<Socket> {
  const socket = createConnection({ host: '127.0.0.1', port });
  const connack = new Promise((r) => socket.once('data', r));
  socket.write(generate({ cmd: 'connect', clientId, protocolVersion: 4, keepalive: 30 }));
  await connack;
  return socket;
}

/** A QoS 0 PUBLISH with a one-byte payload, as bytes. */
function publishBytes(topic: string): Buffer {
  return generate({ cmd: 'publish', topic, payload: 'x', qos: 0, dup: false, retain: false });
}

describe('OpenTelemetry tracing', () => {
  let app: AppProcess | undefined;
  let receiver: OtlpReceiver | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    clients.length = 0;
    await app?.stop();
    await receiver?.close();
    app = receiver = undefined;
  });

  async function start(
    env: Record<string, string>,
  ): Promise<{ url: string; http: string; spans: ReceivedSpan[] }> {
    receiver = await OtlpReceiver.start();
    app = await startApp([], {
      ...LOCAL_PORTS,
      FLUXMQ_TELEMETRY_TRACING_ENABLED: 'true',
      FLUXMQ_TELEMETRY_TRACING_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      ...env,
    });
    return {
      url: `mqtt://127.0.0.1:${app.ports['tcp']}`,
      http: `http://127.0.0.1:${app.ports['http']}`,
      spans: receiver.spans,
    };
  }

  async function connect(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
    clients.push(c);
    return c;
  }

  function nextMessage(c: MqttClient): Promise<IPublishPacket> {
    return new Promise((r) => c.once('message', (_t, _p, packet) => r(packet)));
  }

  it('continues the publisher’s trace through publish, route and one delivery span per subscriber', async () => {
    const { url, spans } = await start({});
    const sub5 = await connect(url, { clientId: 'sub-v5', protocolVersion: 5 });
    const sub4 = await connect(url, { clientId: 'sub-v4', protocolVersion: 4 });
    await sub5.subscribeAsync('t/+', { qos: 1 });
    await sub4.subscribeAsync('t/#', { qos: 0 });
    const pub = await connect(url, { clientId: 'pub', protocolVersion: 5 });
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const got5 = nextMessage(sub5);
    const got4 = nextMessage(sub4);
    await pub.publishAsync('t/1', 'hello', {
      qos: 1,
      properties: { userProperties: { traceparent: `00-${traceId}-${parentId}-01`, other: 'kept' } },
    });
    const [p5, p4] = await Promise.all([got5, got4]);

    await waitUntil(() => spans.filter((s) => s.name === 'deliver').length === 2, 5000, 'two delivery spans');
    const publish = spans.find((s) => s.name === 'publish')!;
    expect(publish).toMatchObject({ traceId, parentSpanId: parentId, kind: KIND.consumer });
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'mqtt',
      'messaging.operation.type': 'receive',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': 't/1',
      'messaging.client.id': 'pub',
      'messaging.message.body.size': 5,
      'messaging.mqtt.qos': 1,
      'messaging.mqtt.retain': false,
      'network.peer.address': '127.0.0.1',
    });
    // The connection's protocol version and listener are on its connect span, not on each message's spans.
    for (const span of [publish, ...spans.filter((s) => s.name === 'deliver')]) {
      expect(span.attributes).not.toHaveProperty('network.protocol.version');
      expect(span.attributes).not.toHaveProperty('messaging.mqtt.listener');
    }
    expect(publish.resource['service.name']).toBe('fluxmq');
    const route = spans.find((s) => s.name === 'route')!;
    expect(route).toMatchObject({ traceId, parentSpanId: publish.spanId, kind: KIND.internal });
    const deliveries = spans.filter((s) => s.name === 'deliver');
    for (const d of deliveries)
      expect(d).toMatchObject({ traceId, parentSpanId: publish.spanId, kind: KIND.producer });
    const to5 = deliveries.find((d) => d.attributes['messaging.client.id'] === 'sub-v5')!;
    expect(to5.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.mqtt.qos': 1 });
    expect(deliveries.find((d) => d.attributes['messaging.client.id'] === 'sub-v4')).toBeDefined();

    // The 5.0 subscriber gets its delivery span's context; its own processing joins the same trace.
    expect(p5.properties?.userProperties).toMatchObject({
      traceparent: `00-${traceId}-${to5.spanId}-01`,
      other: 'kept',
    });
    expect(p4.properties).toBeUndefined(); // 3.1.1 has no user properties to carry it
  });

  it('starts a trace for a publish without context, and traces connect and subscribe', async () => {
    const { url, spans } = await start({});
    const c = await connect(url, { clientId: 'solo', protocolVersion: 5 });
    await c.subscribeAsync('s/x', { qos: 0 });
    const got = nextMessage(c);
    await c.publishAsync('s/x', 'x', { qos: 0 });
    const packet = await got;
    await waitUntil(() => spans.some((s) => s.name === 'deliver'), 5000, 'a delivery span');
    const publish = spans.find((s) => s.name === 'publish')!;
    expect(publish.parentSpanId).toBe('');
    expect(String(packet.properties?.userProperties?.['traceparent'])).toContain(publish.traceId);
    const connect5 = spans.find((s) => s.name === 'connect')!;
    expect(connect5).toMatchObject({ kind: KIND.server });
    expect(connect5.attributes).toMatchObject({
      'messaging.client.id': 'solo',
      'messaging.mqtt.reason_code': 0,
      'network.protocol.name': 'mqtt',
      'network.protocol.version': '5.0',
      'messaging.mqtt.listener': 'tcp',
    });
    expect(spans.find((s) => s.name === 'subscribe')!.attributes['messaging.destination.name']).toBe('s/x');
  });

  it('samples by ratio and by always-traced topics, changeable at run time', async () => {
    const { url, http, spans } = await start({ FLUXMQ_TELEMETRY_TRACING_SAMPLE_RATIO: '0' });
    const c = await connect(url, { clientId: 'quiet', protocolVersion: 5 });
    await c.subscribeAsync('#', { qos: 0 });
    let got = nextMessage(c);
    await c.publishAsync('plain/a', 'a', { qos: 0 });
    expect((await got).properties?.userProperties).toBeUndefined();

    const res = await fetch(`${http}/api/telemetry/sampling`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sampleRatio: 0, alwaysSampleTopics: ['vip/#'] }),
    });
    expect(res.status).toBe(200);
    got = nextMessage(c);
    await c.publishAsync('vip/a', 'b', { qos: 0 });
    expect((await got).properties?.userProperties?.['traceparent']).toBeDefined();
    await waitUntil(() => spans.some((s) => s.name === 'publish'), 5000, 'a publish span');
    expect(
      spans.filter((s) => s.name === 'publish').map((s) => s.attributes['messaging.destination.name']),
    ).toEqual(['vip/a']);
    expect(spans.some((s) => s.name === 'connect')).toBe(false); // ratio 0, client not listed

    const bad = await fetch(`${http}/api/telemetry/sampling`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sampleRatio: 7 }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('sampleRatio');
  });

  it('warns of a protocol it does not speak and of TLS files an http endpoint cannot use, and logs and counts spans the collector refused', async () => {
    receiver = await OtlpReceiver.start(400); // a refusal that retrying would not change
    app = await startApp([], {
      ...LOCAL_PORTS,
      FLUXMQ_TELEMETRY_TRACING_ENABLED: 'true',
      FLUXMQ_TELEMETRY_TRACING_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/otel/ca.pem',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const endpoint = `${receiver.url}/v1/traces`;
    const logs = app.logs;
    expect(
      logs.find((l) => l['msg'] === 'OTLP protocol not supported, exporting with http/protobuf instead'),
    ).toMatchObject({ level: 'warn', requested: 'grpc', endpoint });
    expect(logs.find((l) => l['msg'] === 'OTLP TLS files ignored: the endpoint is not https')).toMatchObject({
      level: 'warn',
      endpoint,
      files: ['/etc/otel/ca.pem'],
    });
    const c = await connect(`mqtt://127.0.0.1:${app.ports['tcp']}`, { clientId: 'lost', protocolVersion: 5 });
    await c.publishAsync('t/x', 'x', { qos: 0 });
    await waitUntil(() => logs.some((l) => l['msg'] === 'trace export failed'), 5000, 'the failure logged');
    const failure = logs.find((l) => l['msg'] === 'trace export failed')!;
    expect(failure).toMatchObject({ level: 'warn', endpoint, error: 'OTLP export refused: HTTP 400' });
    expect(failure['spans_lost']).toBeGreaterThanOrEqual(2); // connect, publish, route at least
    const metrics = await (await fetch(`http://127.0.0.1:${app.ports['http']}/metrics`)).text();
    const failed = /fluxmq_trace_spans_dropped_total\{reason="export_failed"\} (\d+)/.exec(metrics);
    expect(Number(failed?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('exports to an https collector signed by the CA it is given, and will not start without that file', async () => {
    const pki = createPki();
    try {
      receiver = await OtlpReceiver.start(200, {
        cert: pki.read(pki.server.cert),
        key: pki.read(pki.server.key),
      });
      const env = {
        ...LOCAL_PORTS,
        FLUXMQ_TELEMETRY_TRACING_ENABLED: 'true',
        FLUXMQ_TELEMETRY_TRACING_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      };
      app = await startApp([], { ...env, OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca });
      const c = await connect(`mqtt://127.0.0.1:${app.ports['tcp']}`, { clientId: 'tls-traced' });
      await c.publishAsync('secure/x', 'x', { qos: 0 });
      const spans = receiver.spans;
      await waitUntil(() => spans.some((s) => s.name === 'publish'), 5000, 'the publish span, over https');
      expect(app.logs.filter((l) => l['msg'] === 'trace export failed')).toEqual([]);

      const missing = join(pki.dir, 'missing-ca.pem');
      const child = runApp([], { ...env, OTEL_EXPORTER_OTLP_CERTIFICATE: missing });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      expect(await exitOf(child)).toBe(1);
      expect(stderr).toContain(`cannot read the OTLP exporter's CA certificate ${missing}: ENOENT`);
    } finally {
      pki.remove();
    }
  });

  it('times a message from the socket read it came in: messages read together start together', async () => {
    const { spans } = await start({});
    const socket = await rawConnect(app!.ports['tcp'], 'batch');
    socket.write(Buffer.concat([publishBytes('read/one'), publishBytes('read/two')])); // one write, one read
    await sleep(30);
    socket.write(publishBytes('read/three'));
    await waitUntil(
      () => spans.filter((s) => s.name === 'publish').length === 3,
      5000,
      'three publish spans',
    );
    socket.destroy();
    const startOf = (topic: string) =>
      BigInt(
        spans.find((s) => s.name === 'publish' && s.attributes['messaging.destination.name'] === topic)!
          .startTimeUnixNano,
      );
    expect(startOf('read/two')).toBe(startOf('read/one'));
    expect(startOf('read/three') - startOf('read/one')).toBeGreaterThanOrEqual(25_000_000n);
  });

  it('keeps a traced message as a latency exemplar when an untraced one came in the same read', async () => {
    const { http, spans } = await start({ FLUXMQ_TELEMETRY_TRACING_SAMPLE_RATIO: '0' });
    const res = await fetch(`${http}/api/telemetry/sampling`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sampleRatio: 0, alwaysSampleTopics: ['read/traced'] }),
    });
    expect(res.status).toBe(200);
    const sub = await connect(`mqtt://127.0.0.1:${app!.ports['tcp']}`, { clientId: 'sink' });
    await sub.subscribeAsync('read/#', { qos: 0 });
    let received = 0;
    sub.on('message', () => received++);
    const socket = await rawConnect(app!.ports['tcp'], 'pair');
    // One write, one read: both messages share their receive time, and the untraced one comes first.
    socket.write(Buffer.concat([publishBytes('read/plain'), publishBytes('read/traced')]));
    await waitUntil(() => received === 2, 5000, 'both messages delivered');
    await waitUntil(() => spans.some((s) => s.name === 'publish'), 5000, 'the publish span');
    socket.destroy();
    const traceId = spans.find((s) => s.name === 'publish')!.traceId;
    const metrics = await fetch(`${http}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    const exemplars = [
      ...(await metrics.text()).matchAll(
        /^fluxmq_delivery_latency_seconds_bucket\{.*# \{trace_id="([0-9a-f]+)"\}/gm,
      ),
    ];
    expect(exemplars.map((m) => m[1])).toEqual([traceId]);
  });
});
