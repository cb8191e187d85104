import type { ClientInfo, Message, PublishTrace } from '@fluxmq/engine';
import type { SpanContext } from '@opentelemetry/api';
import type { ExportableSpan, OtlpScope } from '../otlp/json';
import { PublishRecord } from './records';

/** Where finished spans go: FluxMQ's OTLP exporter, which also says when it cannot keep up. */
export interface SpanSink {
  readonly scope: OtlpScope;
  readonly backlogged: boolean;
  add(span: ExportableSpan): void;
  /** Counts a sampled message left untraced because the sink was backlogged. */
  shed(): void;
}

/**
 * Message spans as plain records instead of OpenTelemetry SDK spans: a span is an object with a few
 * numbers and strings, nothing is computed for it until its batch is exported, and the JSON that the
 * spans of a message share (ids, a subscriber's attributes) is encoded once and copied. A fan-out makes
 * one delivery span per subscriber, so this is what keeps a sampled message cheap.
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
