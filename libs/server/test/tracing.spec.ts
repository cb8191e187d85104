import { loadConfig, type FluxConfigInput } from '@fluxmq/config';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger, startBrokerServer } from '../src';

const exporter = new InMemorySpanExporter();

/** A broker on a free port, with tracing on and nothing else that could add spans or log lines. */
function tracedConfig(mqtt: FluxConfigInput['mqtt'] = {}) {
  return loadConfig({
    env: {},
    overrides: {
      sys: { enabled: false },
      persistence: { enabled: false },
      listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
      mqtt,
      telemetry: { tracing: { enabled: true } },
    },
  });
}

/** A JSON logger whose lines are kept, parsed, for the test to read. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { lines, logger };
}

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

describe('traces and logs', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('marks a denied publish on its spans and writes the log line with the trace’s ids', async () => {
    const { lines, logger } = capturedLog();
    const authorizer = {
      canPublish: (_c: unknown, topic: string) => !topic.startsWith('secret/'),
      canSubscribe: () => true,
    };
    const config = tracedConfig();
    const server = await startBrokerServer(config, { logger, hooks: { authorizer } });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports['tcp']}`, { protocolVersion: 5 });
    // MQTT.js turns PUBACK 0x87 into a rejection.
    await expect(client.publishAsync('secret/plans', 'x', { qos: 1 })).rejects.toThrow('Not authorized');
    await client.endAsync();
    await server.close();

    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === 'publish')!;
    const authorize = spans.find((s) => s.name === 'authorize')!;
    expect(authorize.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(authorize.attributes['error.type']).toBe('not_authorized');
    expect(publish.status.code).toBe(2); // ERROR
    const denied = lines.find((l) => l['msg'] === 'publish not authorized')!;
    expect(denied).toMatchObject({
      trace_id: publish.spanContext().traceId,
      span_id: publish.spanContext().spanId,
    });
  });

  it('writes the refused-retained line with the ids of the message’s trace', async () => {
    const { lines, logger } = capturedLog();
    const config = tracedConfig({ maxRetainedMessages: 1 });
    const server = await startBrokerServer(config, { logger });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports['tcp']}`, { protocolVersion: 5 });
    await client.publishAsync('kept', 'x', { qos: 1, retain: true });
    exporter.reset();
    await client.publishAsync('refused', 'y', { qos: 1, retain: true });
    await client.endAsync();
    await server.close();

    const publish = exporter.getFinishedSpans().find((s) => s.name === 'publish')!;
    const refused = lines.find((l) => String(l['msg']).startsWith('retained messages not stored'))!;
    expect(refused).toMatchObject({
      topic: 'refused',
      trace_id: publish.spanContext().traceId,
      span_id: publish.spanContext().spanId,
    });
  });

  it('times connect across authentication, and writes each control operation’s log line with its ids', async () => {
    const { lines, logger } = capturedLog();
    const AUTH_MS = 50;
    const authenticator = {
      authenticate: async (r: { username?: string }) => {
        await new Promise((resolve) => setTimeout(resolve, AUTH_MS));
        return r.username === 'bad' ? { ok: false as const, reasonCode: 0x86 } : { ok: true as const };
      },
    };
    const authorizer = { canPublish: () => true, canSubscribe: (_c: unknown, f: string) => f !== 'secret' };
    const config = tracedConfig();
    const server = await startBrokerServer(config, { logger, hooks: { authenticator, authorizer } });
    const url = `mqtt://127.0.0.1:${server.ports['tcp']}`;
    exporter.reset();
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'ctl', username: 'ok' });
    await expect(client.subscribeAsync('secret', { qos: 0 })).rejects.toThrow('Not authorized');
    await client.endAsync();
    await expect(
      mqtt.connectAsync(url, {
        protocolVersion: 5,
        clientId: 'ctl-bad',
        username: 'bad',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
    const first = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'twice', reconnectPeriod: 0 });
    const second = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: 'twice',
      reconnectPeriod: 0,
    });
    await second.endAsync();
    first.end(true);
    await server.close();

    const spans = exporter.getFinishedSpans();
    const byName = (name: string, clientId: string) =>
      spans.find((s) => s.name === name && s.attributes['messaging.client.id'] === clientId)!;
    const idsOf = (name: string, clientId: string) => ({
      trace_id: byName(name, clientId).spanContext().traceId,
      span_id: byName(name, clientId).spanContext().spanId,
    });
    const line = (msg: string, clientId: string) =>
      lines.find((l) => String(l['msg']).startsWith(msg) && l['clientId'] === clientId);

    const connect = byName('connect', 'ctl');
    const millis = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;
    expect(millis(connect.duration)).toBeGreaterThanOrEqual(AUTH_MS - 5);
    expect(connect.attributes).toMatchObject({ 'messaging.mqtt.reason_code': 0 });
    expect(line('client connected', 'ctl')).toMatchObject(idsOf('connect', 'ctl'));
    expect(byName('subscribe', 'ctl').attributes).toMatchObject({
      'messaging.destination.name': 'secret',
      'messaging.mqtt.reason_code': 0x87,
      'error.type': 'refused',
    });
    expect(line('subscription refused', 'ctl')).toMatchObject(idsOf('subscribe', 'ctl'));
    expect(line('client disconnected', 'ctl')).toMatchObject(idsOf('disconnect', 'ctl'));
    expect(byName('connect', 'ctl-bad').attributes).toMatchObject({
      'messaging.mqtt.reason_code': 0x86,
      'error.type': 'refused',
    });
    expect(line('connection refused', 'ctl-bad')).toMatchObject(idsOf('connect', 'ctl-bad'));
    const takeover = spans.filter(
      (s) => s.name === 'connect' && s.attributes['messaging.client.id'] === 'twice',
    )[1];
    expect(line('session taken over', 'twice')).toMatchObject({
      trace_id: takeover.spanContext().traceId,
      span_id: takeover.spanContext().spanId,
    });
  });

  it('ends the connect span of a connection that closes while it is authenticated', async () => {
    let authenticated: () => void = () => undefined;
    const authenticator = {
      authenticate: () =>
        new Promise<{ ok: true }>((resolve) => (authenticated = () => resolve({ ok: true }))),
    };
    const config = tracedConfig();
    const server = await startBrokerServer(config, {
      logger: createJsonLogger('silent'),
      hooks: { authenticator, authorizer: { canPublish: () => true, canSubscribe: () => true } },
    });
    exporter.reset();
    const client = mqtt.connect(`mqtt://127.0.0.1:${server.ports['tcp']}`, {
      clientId: 'gone',
      reconnectPeriod: 0,
    });
    await waitFor(() => server.broker.clients.size === 1);
    client.stream.destroy();
    await waitFor(() => server.broker.clients.size === 0);
    authenticated();
    await server.close();

    const connect = exporter.getFinishedSpans().find((s) => s.name === 'connect')!;
    expect(connect.attributes).toMatchObject({ 'error.type': 'connection_lost' });
  });

  it('adds the active span’s ids to lines logged inside it', () => {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    const span = trace.getTracer('test').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    logger.info('outside');
    span.end();
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId });
    expect(JSON.parse(lines[1])).not.toHaveProperty('trace_id');
  });
});
