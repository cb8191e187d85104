import { loadConfig } from '@fluxmq/config';
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
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger('info', (line) =>
      lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    const authorizer = {
      canPublish: (_c: unknown, topic: string) => !topic.startsWith('secret/'),
      canSubscribe: () => true,
    };
    const config = loadConfig({
      env: {},
      overrides: {
        sys: { enabled: false },
        persistence: { enabled: false },
        listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
        telemetry: { tracing: { enabled: true } },
      },
    });
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
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger('info', (line) =>
      lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    const config = loadConfig({
      env: {},
      overrides: {
        sys: { enabled: false },
        persistence: { enabled: false },
        listeners: { tcp: { host: '127.0.0.1', port: 0 }, ws: { enabled: false } },
        mqtt: { maxRetainedMessages: 1 },
        telemetry: { tracing: { enabled: true } },
      },
    });
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
