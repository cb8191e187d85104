import type { ClientInfo, Message, PublishTrace } from '@fluxmq/engine';
import type { SpanContext } from '@opentelemetry/api';
import type { EncodableSpan } from '../otlp/span-batch';
import { PublishRecord } from './records';

/** Where finished spans go: FluxMQ's OTLP exporter, which also says when it cannot keep up. */
export interface SpanSink {
  readonly backlogged: boolean;
  /** Encodes a finished span into the exporter's open batch. */
  add(span: EncodableSpan): void;
  /** Counts a sampled message left untraced because the sink was backlogged. */
  shed(): void;
}

/**
 * Message spans as plain records instead of OpenTelemetry SDK spans: a span is an object with a few
 * numbers and strings while it is open, and OTLP protobuf bytes in the exporter's batch once it ends; what
 * the spans of a message share (ids, topic, a subscriber's attributes) is encoded once and copied. A
 * fan-out makes one delivery span per subscriber, so this is what keeps a sampled message cheap.
 */
export class MessageSpanRecorder {
  constructor(private readonly sink: SpanSink) {}

  /** Undefined when the exporter is behind: a trace started now would lose its spans anyway. */
  start(
    publisher: ClientInfo | undefined,
    msg: Message,
    parent: SpanContext | undefined,
  ): PublishTrace | undefined {
    if (this.sink.backlogged) {
      this.sink.shed();
      return undefined;
    }
    return new PublishRecord(this.sink, publisher, msg, parent);
  }
}
