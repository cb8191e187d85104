import { SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  attributesJson,
  errorStatusJson,
  jsonString,
  sampledSpanFlags,
  spanNameJson,
  spanParentageJson,
  STATUS_UNSET,
  unixNanoOfHrTime,
  type ExportableSpan,
} from './json';
import type { JsonWriter } from './json-writer';
import type { OtlpSpanExporter } from './span-exporter';

/**
 * Sends the OpenTelemetry SDK's spans (connect, subscribe, ... and any other instrumentation's) through
 * FluxMQ's exporter, so they share its batches, connection and resource with the message spans.
 */
export class SpanExportProcessor implements SpanProcessor {
  constructor(private readonly exporter: OtlpSpanExporter) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & TraceFlags.SAMPLED) this.exporter.add(new SdkSpanJson(span));
  }

  forceFlush(): Promise<void> {
    return this.exporter.flush();
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }
}

/** An SDK span in OTLP/JSON; there are few of these (control packets), so plain strings do. */
class SdkSpanJson implements ExportableSpan {
  constructor(private readonly span: ReadableSpan) {}

  get scope() {
    return this.span.instrumentationScope;
  }

  writeOtlpJson(out: JsonWriter): void {
    const span = this.span;
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    const head =
      spanParentageJson(context.traceId, parent?.spanId, context.traceState?.serialize() || undefined) +
      spanNameJson(
        span.name,
        span.kind + 1, // the API's enum starts at INTERNAL = 0, OTLP's at UNSPECIFIED = 0
        sampledSpanFlags(parent?.isRemote === true),
      );
    const { code, message } = span.status;
    const status =
      code === SpanStatusCode.ERROR
        ? errorStatusJson(message)
        : code === SpanStatusCode.OK
          ? '{"code":1}'
          : STATUS_UNSET;
    out.text(
      `${head}${context.spanId}","startTimeUnixNano":"${unixNanoOfHrTime(span.startTime)}","endTimeUnixNano":"${unixNanoOfHrTime(span.endTime)}","attributes":[${attributesJson(span.attributes)}],"status":${status}${this.eventsAndLinks()}}`,
    );
  }

  private eventsAndLinks(): string {
    const { events, links } = this.span;
    let out = '';
    if (events.length > 0) {
      const encoded = events.map(
        (e) =>
          `{"timeUnixNano":"${unixNanoOfHrTime(e.time)}","name":${jsonString(e.name)},"attributes":[${attributesJson(e.attributes ?? {})}]}`,
      );
      out += `,"events":[${encoded.join(',')}]`;
    }
    if (links.length > 0) {
      const encoded = links.map(({ context, attributes }) => {
        const state = context.traceState?.serialize();
        return `{"traceId":"${context.traceId}","spanId":"${context.spanId}"${state ? `,"traceState":${jsonString(state)}` : ''},"attributes":[${attributesJson(attributes ?? {})}]}`;
      });
      out += `,"links":[${encoded.join(',')}]`;
    }
    return out;
  }
}
