import { loadConfig } from '@fluxmq/config';
import { Broker, Message, type ClientInfo } from '@fluxmq/engine';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/latency';
import type { SpanSink } from '../src/message-spans/recorder';
import { registerBrokerMetrics } from '../src/metrics';
import type { EncodableSpan } from '../src/otlp/span-batch';
import { otlpExportSettings } from '../src/otlp/settings';
import { OtlpSpanExporter } from '../src/otlp/span-exporter';
import { SamplingPolicy } from '../src/sampling';
import { OtelTracing } from '../src/tracer';

const publisher: ClientInfo = {
  clientId: 'pub',
  username: undefined,
  remoteAddress: '127.0.0.1',
  listener: 'tcp',
  protocolVersion: 5,
};
const message = (topic: string) => new Message(topic, Buffer.from('x'), 0, false, undefined, 'pub', 0);
const policy = (alwaysSampleTopics: string[]) =>
  new SamplingPolicy({ sampleRatio: 0, alwaysSampleClients: [], alwaysSampleTopics });

class CollectingSink implements SpanSink {
  readonly backlogged = false;
  readonly spans: EncodableSpan[] = [];
  add(span: EncodableSpan): void {
    this.spans.push(span);
  }
  shed(): void {}
}

describe('OtelTracing', () => {
  it('records message spans into the exporter it is given, and only for sampled messages', () => {
    const sink = new CollectingSink();
    const tracing = new OtelTracing(trace.getTracer('unused'), policy(['alarms/#']), sink);
    expect(tracing.startPublish(publisher, message('plain'))).toBeUndefined();
    const traced = tracing.startPublish(publisher, message('alarms/fire'))!;
    const delivery = traced.deliver(publisher, 0);
    expect(delivery.traceparent).toMatch(new RegExp(`^00-${traced.logFields['trace_id']}-[0-9a-f]{16}-01$`));
    delivery.end();
    traced.end();
    expect(sink.spans).toHaveLength(2);
  });

  it('lets the ratio decide for messages without trace context, and a publisher’s flags for those with one', () => {
    const sink = new CollectingSink();
    const all = new SamplingPolicy({ sampleRatio: 1, alwaysSampleClients: [], alwaysSampleTopics: [] });
    const tracing = new OtelTracing(trace.getTracer('unused'), all, sink);
    const withProperties = (userProperties: [string, string][]) =>
      new Message('t', Buffer.from('x'), 0, false, { userProperties }, 'pub', 0);
    expect(tracing.startPublish(publisher, message('t'))).toBeDefined();
    expect(tracing.startPublish(publisher, withProperties([['k', 'v']]))).toBeDefined();
    const unsampledParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    expect(
      tracing.startPublish(publisher, withProperties([['traceparent', unsampledParent]])),
    ).toBeUndefined();
    all.update({ sampleRatio: 0, alwaysSampleClients: [], alwaysSampleTopics: [] });
    const sampledParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const continued = tracing.startPublish(publisher, withProperties([['traceparent', sampledParent]]));
    expect(continued?.logFields['trace_id']).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(tracing.startPublish(publisher, message('t'))).toBeUndefined();
  });

  it('traces the ratio’s share of messages, each decision counted once on the fast path and off it', () => {
    const sink = new CollectingSink();
    const quarter = new SamplingPolicy({
      sampleRatio: 0.25,
      alwaysSampleClients: [],
      alwaysSampleTopics: [],
    });
    const tracing = new OtelTracing(trace.getTracer('unused'), quarter, sink);
    const withContext = new Message(
      't',
      Buffer.from('x'),
      0,
      false,
      { userProperties: [['k', 'v']] },
      'pub',
      0,
    );
    const n = 40_000;
    let traced = 0;
    // Every other message carries user properties and is decided off the fast path, by the same countdown.
    for (let i = 0; i < n; i++) {
      if (tracing.startPublish(publisher, i % 2 === 0 ? message('t') : withContext)) traced++;
    }
    // Binomial(40,000, 0.25): standard deviation ~87; a message counted twice would shift it by thousands.
    expect(Math.abs(traced - n / 4)).toBeLessThan(450);
  });

  it('makes SDK spans of the tracer it is given when no exporter is installed', () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracing = new OtelTracing(provider.getTracer('fluxmq'), policy(['#']), undefined);
    const traced = tracing.startPublish(publisher, message('t'))!;
    traced.child('route').end();
    traced.end();
    expect(memory.getFinishedSpans().map((s) => s.name)).toEqual(['route', 'publish']);
  });
});

describe('span export metrics', () => {
  it('count exported, dropped and shed spans of the installed exporter', async () => {
    const exporter = new OtlpSpanExporter(
      otlpExportSettings({ OTEL_BSP_MAX_QUEUE_SIZE: '2' }, 'http://127.0.0.1:9'), // nothing listens there
      { attributes: {} },
      { name: 'fluxmq' },
    );
    const registry = new Registry();
    const broker = new Broker({ config: loadConfig({ env: {} }).mqtt });
    registerBrokerMetrics(registry, broker, new LatencyHistogram(), '1.0.0', exporter);
    const tracing = new OtelTracing(trace.getTracer('unused'), policy(['#']), exporter);
    for (let i = 0; i < 3; i++) tracing.startPublish(undefined, message('t'))?.end();
    await exporter.flush();
    await broker.close();
    const text = await registry.metrics();
    expect(text).toContain('fluxmq_trace_spans_exported_total 0');
    expect(text).toContain('fluxmq_trace_spans_dropped_total{reason="export_failed"} 1');
    expect(text).toContain('fluxmq_traces_shed_total 2');
  });
});
