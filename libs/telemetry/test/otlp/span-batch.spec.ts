import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { ClientInfo, PublishTrace } from '@fluxmq/engine';
import { Message } from '@fluxmq/engine';
import { MessageSpanRecorder } from '../../src/message-spans/recorder';
import { decodeTraceExport, type DecodedSpan } from '../../src/otlp/decode';
import { SdkMessageSpans } from '../../src/sdk-message-spans';
import { extractTraceContext } from '../../src/trace-context';
import { SpanField } from '../../src/otlp/otlp-proto';
import { SpanExportProcessor } from '../../src/otlp/sdk-span-processor';
import { EncodedScope, resourceField, SpanBatch, type EncodableSpan } from '../../src/otlp/span-batch';
import type { OtlpSpanExporter } from '../../src/otlp/span-exporter';

/** SDK spans of every kind of content: parent, remote link, trace state, events, error status, types. */
function sdkSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'fluxmq' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('fluxmq', '1.2.3');
  const remote = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=1'),
  });
  const parent = tracer.startSpan('connect', { kind: SpanKind.SERVER, attributes: { n: 1 } }, remote);
  const child = provider.getTracer('other').startSpan(
    'lookup',
    {
      attributes: { s: 'é', d: 0.5, b: false, list: [1, 2], negative: -3 },
      links: [{ context: parent.spanContext(), attributes: { why: 'retry' } }],
    },
    trace.setSpan(context.active(), parent),
  );
  child.addEvent('cache miss', { key: 'k' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.setStatus({ code: SpanStatusCode.OK });
  parent.end();
  return memory.getFinishedSpans();
}

describe('SpanBatch', () => {
  it('encodes SDK spans as OpenTelemetry’s own OTLP serializer does', () => {
    const spans = sdkSpans();
    const batch = new SpanBatch();
    const processor = new SpanExportProcessor({
      add: (span, scope) => batch.add(scope!, span),
    } as Pick<OtlpSpanExporter, 'add'> as OtlpSpanExporter);
    for (const span of spans) processor.onEnd(span);
    const ours = decodeTraceExport(Buffer.concat(batch.request(resourceField({ 'service.name': 'fluxmq' }))));
    const theirs = decodeTraceExport(ProtobufTraceSerializer.serializeRequest(spans)!);

    // A zero count is the protobuf default: OpenTelemetry writes it, we leave it out; both read as 0.
    const flat = (request: typeof ours) =>
      request.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) =>
          ss.spans.map(({ droppedAttributesCount, ...span }) => ({
            scope: ss.scope,
            ...span,
            droppedAttributesCount: droppedAttributesCount ?? 0,
          })),
        ),
      );
    expect(flat(ours)).toEqual(flat(theirs));
    expect(ours.resourceSpans[0].resource).toEqual(theirs.resourceSpans[0].resource);
    const [lookup, connect] = flat(ours);
    expect(lookup).toMatchObject({ name: 'lookup', status: { code: 2, message: 'boom' } });
    expect(connect).toMatchObject({ parentSpanId: 'b7ad6b7169203331', traceState: 'vendor=1', flags: 0x301 });
  });

  it('groups consecutive spans of a scope, and starts a new group when the scope changes', () => {
    const batch = new SpanBatch();
    const named = (name: string): EncodableSpan => ({
      encodeOtlp: (out) => out.stringField(SpanField.name, name),
    });
    const a = EncodedScope.of({ name: 'a', version: '1' });
    const b = EncodedScope.of({ name: 'b' });
    expect(EncodedScope.of({ name: 'a', version: '1' })).toBe(a); // one per name and version
    for (const [scope, name] of [
      [a, 'a1'],
      [a, 'a2'],
      [b, 'b1'],
      [a, 'a3'],
    ] as const)
      batch.add(scope, named(name));
    expect(batch.spans).toBe(4);
    const request = decodeTraceExport(Buffer.concat(batch.request(resourceField({ r: 'x' }))));
    expect(request.resourceSpans).toHaveLength(1);
    expect(request.resourceSpans[0].resource.attributes).toEqual([{ key: 'r', value: { stringValue: 'x' } }]);
    expect(request.resourceSpans[0].scopeSpans.map((ss) => [ss.scope, ss.spans.map((s) => s.name)])).toEqual([
      [{ name: 'a', version: '1' }, ['a1', 'a2']],
      [{ name: 'b' }, ['b1']],
      [{ name: 'a', version: '1' }, ['a3']],
    ]);
    batch.reset();
    expect(batch.spans).toBe(0);
    batch.add(b, named('again'));
    const again = decodeTraceExport(Buffer.concat(batch.request(resourceField({}))));
    expect(again.resourceSpans[0].scopeSpans.map((ss) => ss.spans.map((s) => s.name))).toEqual([['again']]);
  });

  it('encodes message spans as OpenTelemetry would encode the same spans made with its SDK', () => {
    const client = (clientId: string, protocolVersion: 4 | 5): ClientInfo => ({
      clientId,
      username: undefined,
      remoteAddress: '10.0.0.9',
      listener: 'tls',
      protocolVersion,
    });
    const props = {
      userProperties: [['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']],
    };
    // One message's life: authorized, routed, delivered to a 5.0 and a 3.1.1 subscriber (one fails).
    const play = (start: (msg: Message) => PublishTrace) => {
      const msg = new Message(
        'plant/7/temp',
        Buffer.alloc(12),
        1,
        true,
        props as Message['properties'],
        'pub',
        0,
      );
      const publish = start(msg);
      publish.child('authorize').end();
      const route = publish.child('route');
      publish.deliver(client('a', 5), 1).end();
      publish.deliver(client('b', 4), 0).end('too_large');
      route.end();
      publish.end();
    };
    const parentOf = (msg: Message) => extractTraceContext(msg.properties?.userProperties);

    const records: EncodableSpan[] = [];
    const recorder = new MessageSpanRecorder({
      backlogged: false,
      add: (span) => records.push(span),
      shed() {},
    });
    play((msg) => recorder.start(client('pub', 5), msg, parentOf(msg))!);
    const batch = new SpanBatch();
    for (const span of records) batch.add(EncodedScope.of({ name: 'fluxmq' }), span);
    const ours = decodeTraceExport(Buffer.concat(batch.request(resourceField({})))).resourceSpans[0]
      .scopeSpans[0].spans;

    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const sdk = new SdkMessageSpans(provider.getTracer('fluxmq'));
    play((msg) => sdk.start(client('pub', 5), msg, parentOf(msg)));
    const theirs = decodeTraceExport(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!)
      .resourceSpans[0].scopeSpans[0].spans;

    // Everything but ids and times, and the tree by names. An unset status is the protobuf default:
    // OpenTelemetry writes it as code 0, we leave it out; both read as unset.
    const names = new Map([...ours, ...theirs].map((s) => [s.spanId, s.name]));
    const shape = ({ traceId, name, kind, flags, attributes, status, parentSpanId }: DecodedSpan) => ({
      name,
      kind,
      flags,
      status: { code: status.code ?? 0, ...(status.message ? { message: status.message } : {}) },
      parent: names.get(parentSpanId ?? '') ?? parentSpanId,
      sameTrace: traceId === '0af7651916cd43dd8448eb211c80319c',
      attributes: [...attributes].sort((x, y) => x.key.localeCompare(y.key)),
    });
    expect(ours.map(shape)).toEqual(theirs.map(shape));
    expect(ours.map((s) => s.name)).toEqual(['authorize', 'deliver', 'deliver', 'route', 'publish']);
  });
});
