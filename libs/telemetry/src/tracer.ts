import type {
  ClientInfo,
  ControlOperation,
  ControlOutcome,
  ControlTrace,
  Message,
  MessageTracer,
  PublishTrace,
} from '@fluxmq/engine';
import {
  SpanKind,
  TraceFlags,
  type Attributes,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { MessageSpanRecorder, type SpanSink } from './message-spans/recorder';
import { installedSpanExporter } from './otlp/span-exporter';
import type { SamplingPolicy } from './sampling';
import { endSpan, SdkMessageSpans } from './sdk-message-spans';
import { connectionAttributes } from './span-attributes';
import { extractTraceContext } from './trace-context';

interface MessageSpans {
  start(
    publisher: ClientInfo | undefined,
    msg: Message,
    parent: SpanContext | undefined,
  ): PublishTrace | undefined;
}

/**
 * OpenTelemetry tracing of every message's path (publish → authorize, route, deliver per subscriber) and
 * spans for connect, subscribe, unsubscribe and disconnect. `SamplingPolicy` decides before any span
 * exists, so an unsampled message costs one call that returns undefined. Message spans are records sent
 * by FluxMQ's exporter when one is installed (the app), SDK spans of `tracer` otherwise; control spans
 * are always SDK spans.
 */
export class OtelTracing implements MessageTracer {
  private readonly messageSpans: MessageSpans;

  constructor(
    private readonly tracer: Tracer,
    private readonly sampling: SamplingPolicy,
    exporter: SpanSink | undefined = installedSpanExporter(),
  ) {
    this.messageSpans = exporter ? new MessageSpanRecorder(exporter) : new SdkMessageSpans(tracer);
  }

  startPublish(publisher: ClientInfo | undefined, msg: Message): PublishTrace | undefined {
    // Most messages carry no trace context, no list applies, and the ratio skips them: this check is all
    // they cost. It is kept this small because V8 inlines it into the engine's PUBLISH path, whose bytecode
    // inlined counts against one budget the path itself needs (docs/architecture.md, "Decisions").
    const sampling = this.sampling;
    if (sampling.ratioOnly && msg.properties?.userProperties === undefined && sampling.ratioSkips()) {
      return undefined;
    }
    return this.decidePublish(publisher, msg);
  }

  /** The rest of the decision, out of line: a message the ratio picked, or one lists or context may pick. */
  private decidePublish(publisher: ClientInfo | undefined, msg: Message): PublishTrace | undefined {
    const userProperties = msg.properties?.userProperties;
    if (userProperties === undefined && this.sampling.ratioOnly) {
      // startPublish counted this decision already: it is the one that ends a gap.
      return this.sampling.ratioSamples() ? this.messageSpans.start(publisher, msg, undefined) : undefined;
    }
    const parent = extractTraceContext(userProperties);
    const parentSampled = parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : undefined;
    if (!this.sampling.shouldSample(publisher?.clientId, msg.topic, parentSampled)) return undefined;
    return this.messageSpans.start(publisher, msg, parent);
  }

  startControl(operation: ControlOperation, client: ClientInfo): ControlTrace | undefined {
    if (!this.sampling.shouldSample(client.clientId, undefined, undefined)) return undefined;
    return new ControlSpan(this.tracer.startSpan(operation, { kind: SpanKind.SERVER }), operation, client);
  }
}

/** Its attributes are set as it ends: a connect's client id may be assigned meanwhile. */
class ControlSpan implements ControlTrace {
  readonly logFields: Readonly<Record<string, string>>;

  constructor(
    private readonly span: Span,
    private readonly operation: ControlOperation,
    private readonly client: ClientInfo,
  ) {
    const ctx = span.spanContext();
    this.logFields = { trace_id: ctx.traceId, span_id: ctx.spanId };
  }

  end(outcome: ControlOutcome): void {
    const attributes: Attributes = {
      ...connectionAttributes(this.client),
      'messaging.operation.name': this.operation,
      'messaging.mqtt.reason_code': outcome.reasonCode,
    };
    if (outcome.filter !== undefined) attributes['messaging.destination.name'] = outcome.filter;
    if (outcome.qos !== undefined) attributes['messaging.mqtt.qos'] = outcome.qos;
    if (outcome.sessionPresent !== undefined)
      attributes['messaging.mqtt.session_present'] = outcome.sessionPresent;
    if (outcome.disconnectCause !== undefined)
      attributes['messaging.mqtt.disconnect_cause'] = outcome.disconnectCause;
    this.span.setAttributes(attributes);
    endSpan(this.span, outcome.errorType);
  }
}
