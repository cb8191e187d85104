// Micro-benchmark, not part of `vitest run`: `npx vitest bench --run` from libs/telemetry.
// What sampled messages' spans cost the broker: recorded, then encoded into an export batch as they end.
// Each iteration traces 100 messages, so that the harness's own time per iteration hardly counts: divide
// the mean by 100. Reference point (dev box, Node 20): ~3.4 µs per fan-in message, ~70 µs per fan-out to 200.
// The same loop over the built libs (dist) takes ~1.5 µs per fan-in message: vitest runs the TypeScript
// sources through its own module wrappers, which make every call across modules dearer. Use it to compare
// changes, and the built code for absolute figures.
import type { ClientInfo } from '@fluxmq/engine';
import { Message } from '@fluxmq/engine';
import { bench, describe } from 'vitest';
import { MessageSpanRecorder, type SpanSink } from '../src/message-spans/recorder';
import { EncodedScope, SpanBatch, type EncodableSpan } from '../src/otlp/span-batch';

/** Encodes into a batch as the exporter does, and empties it where the exporter would send it. */
class BatchSink implements SpanSink {
  readonly backlogged = false;
  private readonly batch = new SpanBatch();
  private readonly scope = EncodedScope.of({ name: 'fluxmq', version: '0.0.0' });
  add(span: EncodableSpan): void {
    this.batch.add(this.scope, span);
    if (this.batch.spans >= 2048) this.batch.reset();
  }
  shed(): void {}
}

const client = (clientId: string): ClientInfo => ({
  clientId,
  username: undefined,
  remoteAddress: '127.0.0.1',
  listener: 'tcp',
  protocolVersion: 4,
});

function traced(recorder: MessageSpanRecorder, publisher: ClientInfo, subscribers: ClientInfo[]): void {
  const msg = new Message('bench/in/7', Buffer.alloc(64), 0, false, undefined, publisher.clientId, 0);
  const trace = recorder.start(publisher, msg, undefined)!;
  const route = trace.child('route');
  for (const subscriber of subscribers) trace.deliver(subscriber, 0).end();
  route.end();
  trace.end();
}

function hundred(recorder: MessageSpanRecorder, publisher: ClientInfo, subscribers: ClientInfo[]): void {
  for (let i = 0; i < 100; i++) traced(recorder, publisher, subscribers);
}

describe('100 sampled QoS 0 messages: publish, route and delivery spans, encoded', () => {
  const recorder = new MessageSpanRecorder(new BatchSink());
  const publisher = client('bench-pub-7');
  const one = [client('bench-sub')];
  const many = Array.from({ length: 200 }, (_, i) => client(`bench-sub-${i}`));
  bench('fan-in: one subscriber each', () => hundred(recorder, publisher, one));
  bench('fan-out: 200 subscribers each', () => hundred(recorder, publisher, many));
});
