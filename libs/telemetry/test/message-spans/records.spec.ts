import type { ClientInfo, PublishTrace } from '@fluxmq/engine';
import { Message } from '@fluxmq/engine';
import { describe, expect, it } from 'vitest';
import { MessageSpanRecorder, type SpanSink } from '../../src/message-spans/recorder';
import { decodeTraceExport, type DecodedSpan } from '../../src/otlp/decode';
import { EncodedScope, resourceField, SpanBatch, type EncodableSpan } from '../../src/otlp/span-batch';
import { extractTraceContext } from '../../src/trace-context';

type OtlpSpan = DecodedSpan;

/** Keeps the finished spans, to encode them as the exporter would, in batches the test chooses. */
class CollectingSink implements SpanSink {
  readonly spans: EncodableSpan[] = [];
  backlogged = false;
  shedCount = 0;
  add(span: EncodableSpan): void {
    this.spans.push(span);
  }
  shed(): void {
    this.shedCount++;
  }
}

const client = (clientId: string, protocolVersion: 4 | 5 = 5): ClientInfo => ({
  clientId,
  username: undefined,
  remoteAddress: '10.0.0.7',
  listener: 'tcp',
  protocolVersion,
});

/** Encodes spans into one export request, as the exporter would, and reads it back. */
function exported(sink: CollectingSink, spans = sink.spans, serviceName = 'fluxmq'): OtlpSpan[] {
  const batch = new SpanBatch();
  const scope = EncodedScope.of({ name: 'fluxmq', version: '9.9.9' });
  for (const span of spans) batch.add(scope, span);
  const request = decodeTraceExport(
    Buffer.concat(batch.request(resourceField({ 'service.name': serviceName }))),
  );
  const [resourceSpans] = request.resourceSpans;
  expect(resourceSpans.resource.attributes).toEqual([
    { key: 'service.name', value: { stringValue: serviceName } },
  ]);
  const [scopeSpans] = resourceSpans.scopeSpans;
  expect(scopeSpans.scope).toEqual({ name: 'fluxmq', version: '9.9.9' });
  return scopeSpans.spans;
}

const attributes = (span: OtlpSpan) =>
  Object.fromEntries(span.attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

function publishTo(recorder: MessageSpanRecorder, msg: Message, subscribers: ClientInfo[]): PublishTrace {
  const trace = recorder.start(client('pub'), msg, extractTraceContext(msg.properties?.userProperties))!;
  msg.trace = trace;
  const route = trace.child('route');
  for (const subscriber of subscribers) trace.deliver(subscriber, 0).end();
  route.end();
  trace.end();
  return trace;
}

describe('message span records', () => {
  it('export as one trace: publish (consumer) over route (internal) and a delivery (producer) per subscriber', () => {
    const sink = new CollectingSink();
    const recorder = new MessageSpanRecorder(sink);
    const msg = new Message('sensors/é"1', Buffer.from('hello'), 1, true, undefined, 'pub', 0);
    const trace = publishTo(recorder, msg, [client('a'), client('b', 4)]);
    const spans = exported(sink);
    const publish = spans.find((s) => s.name === 'publish')!;
    const route = spans.find((s) => s.name === 'route')!;
    const deliveries = spans.filter((s) => s.name === 'deliver');

    expect(publish).toMatchObject({
      kind: 5,
      flags: 0x101,
      traceId: trace.logFields['trace_id'],
      status: {},
    });
    expect(publish.spanId).toBe(trace.logFields['span_id']);
    expect(publish.parentSpanId).toBeUndefined();
    expect(attributes(publish)).toEqual({
      'messaging.system': 'mqtt',
      'messaging.client.id': 'pub',
      'network.peer.address': '10.0.0.7',
      'messaging.operation.type': 'receive',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': 'sensors/é"1',
      'messaging.message.body.size': 5,
      'messaging.mqtt.qos': 1,
      'messaging.mqtt.retain': true,
    });
    expect(route).toMatchObject({ kind: 1, traceId: publish.traceId, parentSpanId: publish.spanId });
    expect(route.attributes).toEqual([]);
    expect(route.status).toEqual({});
    expect(deliveries.map((d) => attributes(d)['messaging.client.id'])).toEqual(['a', 'b']);
    // A connection's protocol version and listener are on its control spans, not on each message span.
    deliveries.forEach((d, i) => {
      expect(d).toMatchObject({ kind: 4, traceId: publish.traceId, parentSpanId: publish.spanId });
      expect(attributes(d)).toEqual({
        'messaging.system': 'mqtt',
        'messaging.client.id': ['a', 'b'][i],
        'network.peer.address': '10.0.0.7',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'deliver',
        'messaging.destination.name': 'sensors/é"1',
        'messaging.message.body.size': 5,
        'messaging.mqtt.qos': 0,
      });
    });
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(4);
  });

  it('time spans in Unix nanoseconds: publish from receipt, deliveries within their route', () => {
    const sink = new CollectingSink();
    const before = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1e6));
    const subscribers = Array.from({ length: 40 }, (_, i) => client(`s${i}`));
    const msg = new Message('t', Buffer.alloc(1), 0, false, undefined, 'p', 0);
    publishTo(new MessageSpanRecorder(sink), msg, subscribers);
    const after = BigInt(Math.ceil((performance.timeOrigin + performance.now()) * 1e6));
    const spans = exported(sink);
    const time = (s: OtlpSpan) => [BigInt(s.startTimeUnixNano), BigInt(s.endTimeUnixNano)];
    const [routeStart, routeEnd] = time(spans.find((s) => s.name === 'route')!);
    const [publishStart, publishEnd] = time(spans.find((s) => s.name === 'publish')!);
    expect(publishStart).toBeGreaterThanOrEqual(before - 1000n);
    expect(publishEnd).toBeLessThanOrEqual(after + 1000n);
    // Deliveries share a clock reading per 16: each group starts where the previous one ended, the
    // first when the route starts, the last ends with the route.
    const deliveries = spans.filter((s) => s.name === 'deliver');
    expect(deliveries.map((d) => attributes(d)['messaging.client.id'])).toEqual(
      subscribers.map((c) => c.clientId),
    );
    let previousEnd = routeStart;
    for (const group of [deliveries.slice(0, 16), deliveries.slice(16, 32), deliveries.slice(32)]) {
      const [start, end] = time(group[0]);
      for (const delivery of group) expect(time(delivery)).toEqual([start, end]);
      expect(start).toBe(previousEnd);
      expect(end).toBeGreaterThanOrEqual(start);
      previousEnd = end;
    }
    expect(previousEnd).toBe(routeEnd);
  });

  it('time a delivery that ends after its route (a QoS 1 delivery, acknowledged later) by its own clock', async () => {
    const sink = new CollectingSink();
    const msg = new Message('t', Buffer.alloc(1), 1, false, undefined, 'p', 0);
    const trace = new MessageSpanRecorder(sink).start(client('pub'), msg, undefined)!;
    const route = trace.child('route');
    const delivery = trace.deliver(client('s'), 1);
    route.end();
    await new Promise((resolve) => setTimeout(resolve, 20));
    delivery.end();
    trace.end();
    const spans = exported(sink);
    const time = (s: OtlpSpan) => [BigInt(s.startTimeUnixNano), BigInt(s.endTimeUnixNano)];
    const [routeStart, routeEnd] = time(spans.find((s) => s.name === 'route')!);
    const [start, end] = time(spans.find((s) => s.name === 'deliver')!);
    expect(start).toBe(routeStart);
    expect(end - routeEnd).toBeGreaterThanOrEqual(15_000_000n); // the 20 ms wait for the acknowledgement
  });

  it('continue a publisher’s trace and hand each delivery’s context, with tracestate, to its subscriber', () => {
    const sink = new CollectingSink();
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const msg = new Message(
      't',
      Buffer.alloc(1),
      0,
      false,
      {
        userProperties: [
          ['traceparent', tp],
          ['tracestate', 'vendor=1'],
        ],
      },
      'pub',
      0,
    );
    const trace = new MessageSpanRecorder(sink).start(
      client('pub'),
      msg,
      extractTraceContext(msg.properties!.userProperties),
    )!;
    const delivery = trace.deliver(client('a'), 1);
    delivery.end();
    trace.end();
    const [deliverSpan, publish] = exported(sink);
    expect(publish).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: 'b7ad6b7169203331',
      flags: 0x301,
      traceState: 'vendor=1',
    });
    expect(delivery.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${deliverSpan.spanId}-01`);
    expect(delivery.tracestate).toBe('vendor=1');
    expect(deliverSpan).toMatchObject({ parentSpanId: publish.spanId, traceState: 'vendor=1' });
  });

  it('mark failures with error.type and an error status, and end each span once', () => {
    const sink = new CollectingSink();
    const trace = new MessageSpanRecorder(sink).start(
      undefined,
      new Message('t', Buffer.alloc(0), 0, false, undefined, '', 0),
      undefined,
    )!;
    const authorize = trace.child('authorize');
    authorize.end('not_authorized');
    authorize.end();
    const delivery = trace.deliver(client('a'), 2);
    delivery.end('expired');
    trace.end('not_authorized');
    trace.end();
    expect(sink.spans).toHaveLength(3);
    const [authorizeSpan, deliverSpan, publish] = exported(sink);
    expect(authorizeSpan.attributes).toEqual([
      { key: 'error.type', value: { stringValue: 'not_authorized' } },
    ]);
    expect(authorizeSpan.status).toEqual({ code: 2, message: 'not_authorized' });
    expect(attributes(deliverSpan)).toMatchObject({ 'messaging.mqtt.qos': 2, 'error.type': 'expired' });
    expect(deliverSpan.status).toEqual({ code: 2, message: 'expired' });
    expect(attributes(publish)).toMatchObject({ 'messaging.system': 'mqtt', 'error.type': 'not_authorized' });
    expect(attributes(publish)['messaging.client.id']).toBeUndefined(); // published by the broker itself
  });

  it('are encoded alike in any batch, whatever spans of other messages come between them', () => {
    const sink = new CollectingSink();
    const recorder = new MessageSpanRecorder(sink);
    const first = recorder.start(
      client('p1'),
      new Message('one', Buffer.alloc(1), 0, false, undefined, 'p1', 0),
      undefined,
    )!;
    const second = recorder.start(
      client('p2'),
      new Message('two', Buffer.alloc(2), 0, false, undefined, 'p2', 0),
      undefined,
    )!;
    for (const trace of [first, second, first, second]) trace.deliver(client('s'), 0).end();
    const together = exported(sink);
    const apart = [...exported(sink, sink.spans.slice(0, 3)), ...exported(sink, sink.spans.slice(3))];
    expect(apart).toEqual(together);
    expect(together.map((s) => attributes(s)['messaging.destination.name'])).toEqual([
      'one',
      'two',
      'one',
      'two',
    ]);
    expect(together.map((s) => s.parentSpanId)).toEqual([
      first.logFields['span_id'],
      second.logFields['span_id'],
      first.logFields['span_id'],
      second.logFields['span_id'],
    ]);
  });

  it('start no trace while the exporter is backlogged, and count the message as shed', () => {
    const sink = new CollectingSink();
    sink.backlogged = true;
    const recorder = new MessageSpanRecorder(sink);
    expect(
      recorder.start(client('p'), new Message('t', Buffer.alloc(1), 0, false, undefined, 'p', 0), undefined),
    ).toBeUndefined();
    expect(sink.shedCount).toBe(1);
  });
});
