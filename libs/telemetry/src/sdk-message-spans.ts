import type { QoS } from '@fluxmq/codec';
import type { ClientInfo, DeliveryTrace, Message, PublishTrace, TraceSpan } from '@fluxmq/engine';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import {
  clientAttributes,
  DELIVERY_OPERATION,
  destinationAttributes,
  PUBLISH_OPERATION,
  publisherAttributes,
  qosAttribute,
  retainAttribute,
} from './span-attributes';
import { formatTraceparent } from './trace-context';

/** Ends an SDK span, marking it failed with `errorType` if given. */
export function endSpan(span: Span, errorType?: string): void {
  if (errorType) {
    span.setAttribute('error.type', errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
  }
  span.end();
}

/**
 * Message spans as OpenTelemetry SDK spans, from whatever tracer provider is registered: the way when no
 * FluxMQ exporter is installed (the broker embedded with its own OpenTelemetry setup, tests).
 */
export class SdkMessageSpans {
  constructor(private readonly tracer: Tracer) {}

  start(publisher: ClientInfo | undefined, msg: Message, parent: SpanContext | undefined): PublishTrace {
    const attributes = {
      ...publisherAttributes(publisher),
      ...PUBLISH_OPERATION,
      ...destinationAttributes(msg.topic, msg.payload.length),
      ...qosAttribute(msg.qos),
      ...retainAttribute(msg.retain),
    };
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    const span = this.tracer.startSpan('publish', { kind: SpanKind.CONSUMER, attributes }, context);
    return new SdkPublish(this.tracer, span, msg.topic, msg.payload.length);
  }
}

class SdkSpan implements TraceSpan {
  constructor(protected readonly span: Span) {}
  end(errorType?: string): void {
    endSpan(this.span, errorType);
  }
}

class SdkDelivery extends SdkSpan implements DeliveryTrace {
  readonly traceparent: string;
  readonly tracestate: string | undefined;
  constructor(span: Span) {
    super(span);
    const ctx = span.spanContext();
    this.traceparent = formatTraceparent(ctx);
    this.tracestate = ctx.traceState?.serialize() || undefined;
  }
}

class SdkPublish extends SdkSpan implements PublishTrace {
  readonly logFields: Readonly<Record<string, string>>;
  private readonly context: Context;

  constructor(
    private readonly tracer: Tracer,
    span: Span,
    private readonly topic: string,
    private readonly bodySize: number,
  ) {
    super(span);
    const ctx = span.spanContext();
    this.logFields = { trace_id: ctx.traceId, span_id: ctx.spanId };
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  child(name: 'authorize' | 'route' | 'persist'): TraceSpan {
    return new SdkSpan(this.tracer.startSpan(name, { kind: SpanKind.INTERNAL }, this.context));
  }

  deliver(subscriber: ClientInfo, qos: QoS): DeliveryTrace {
    const attributes = {
      ...clientAttributes(subscriber),
      ...DELIVERY_OPERATION,
      ...destinationAttributes(this.topic, this.bodySize),
      ...qosAttribute(qos),
    };
    return new SdkDelivery(
      this.tracer.startSpan('deliver', { kind: SpanKind.PRODUCER, attributes }, this.context),
    );
  }
}
