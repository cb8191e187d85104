import { SpanStatusCode, TraceFlags, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  EventField,
  LinkField,
  sampledSpanFlags,
  SpanField,
  StatusCode,
  StatusField,
  writeAttributes,
  writeErrorStatus,
} from './otlp-proto';
import { WireType, type ProtoWriter } from './proto-writer';
import { EncodedScope, type EncodableSpan } from './span-batch';
import type { OtlpSpanExporter } from './span-exporter';

/**
 * Sends the OpenTelemetry SDK's spans (connect, subscribe, ... and any other instrumentation's) through
 * FluxMQ's exporter, so they share its batches, connection and resource with the message spans.
 */
export class SpanExportProcessor implements SpanProcessor {
  constructor(private readonly exporter: OtlpSpanExporter) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & TraceFlags.SAMPLED) {
      this.exporter.add(new SdkSpan(span), EncodedScope.of(span.instrumentationScope));
    }
  }

  forceFlush(): Promise<void> {
    return this.exporter.flush();
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }
}

/** An SDK span as an OTLP `Span`; there are few of these (control packets), so nothing is pre-encoded. */
class SdkSpan implements EncodableSpan {
  constructor(private readonly span: ReadableSpan) {}

  encodeOtlp(out: ProtoWriter): void {
    const span = this.span;
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    out.hexField(SpanField.traceId, context.traceId);
    out.hexField(SpanField.spanId, context.spanId);
    const state = context.traceState?.serialize();
    if (state) out.stringField(SpanField.traceState, state);
    if (parent) out.hexField(SpanField.parentSpanId, parent.spanId);
    out.stringField(SpanField.name, span.name);
    out.tag(SpanField.kind, WireType.varint);
    out.varint(span.kind + 1); // the API's enum starts at INTERNAL = 0, OTLP's at UNSPECIFIED = 0
    out.hrTimeField(SpanField.startTime, span.startTime);
    out.hrTimeField(SpanField.endTime, span.endTime);
    writeAttributes(out, SpanField.attributes, span.attributes);
    count(out, SpanField.droppedAttributesCount, span.droppedAttributesCount);
    for (const event of span.events) {
      const mark = out.beginDelimited(SpanField.events);
      out.hrTimeField(EventField.time, event.time);
      out.stringField(EventField.name, event.name);
      writeAttributes(out, EventField.attributes, event.attributes ?? {});
      count(out, EventField.droppedAttributesCount, event.droppedAttributesCount);
      out.endDelimited(mark);
    }
    count(out, SpanField.droppedEventsCount, span.droppedEventsCount);
    for (const link of span.links)
      writeLink(out, link.context, link.attributes ?? {}, link.droppedAttributesCount);
    count(out, SpanField.droppedLinksCount, span.droppedLinksCount);
    const { code, message } = span.status;
    if (code === SpanStatusCode.ERROR) writeErrorStatus(out, message);
    else if (code === SpanStatusCode.OK) {
      const mark = out.beginDelimited(SpanField.status);
      out.tag(StatusField.code, WireType.varint);
      out.varint(StatusCode.ok);
      out.endDelimited(mark);
    }
    out.tag(SpanField.flags, WireType.fixed32);
    out.fixed32(sampledSpanFlags(parent?.isRemote === true));
  }
}

function writeLink(
  out: ProtoWriter,
  context: ReturnType<ReadableSpan['spanContext']>,
  attributes: Attributes,
  dropped: number | undefined,
): void {
  const mark = out.beginDelimited(SpanField.links);
  out.hexField(LinkField.traceId, context.traceId);
  out.hexField(LinkField.spanId, context.spanId);
  const state = context.traceState?.serialize();
  if (state) out.stringField(LinkField.traceState, state);
  writeAttributes(out, LinkField.attributes, attributes);
  count(out, LinkField.droppedAttributesCount, dropped);
  out.tag(LinkField.flags, WireType.fixed32);
  out.fixed32(0x100 | (context.traceFlags & 0xff) | (context.isRemote ? 0x200 : 0));
  out.endDelimited(mark);
}

/** A dropped-something count, left out when zero as protobuf does with defaults. */
function count(out: ProtoWriter, field: number, value: number | undefined): void {
  if (!value) return;
  out.tag(field, WireType.varint);
  out.varint(value);
}
