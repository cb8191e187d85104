import type {
  BrokerObserver,
  ClientInfo,
  DeliveryTrace,
  DisconnectCause,
  Message,
  MessageTracer,
  PublishTrace,
  TraceSpan,
} from '@fluxmq/engine';
import type { QoS } from '@fluxmq/codec';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { SamplingPolicy } from './sampling';
import { extractTraceContext, formatTraceparent } from './trace-context';

// Span and attribute names follow the OpenTelemetry messaging semantic conventions; MQTT-specific ones
// use the `messaging.mqtt.` namespace as other systems do (`messaging.kafka.`, `messaging.rabbitmq.`).
const SYSTEM = 'mqtt';
const VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

function clientAttributes(client: ClientInfo): Attributes {
  return {
    'messaging.system': SYSTEM,
    'messaging.client.id': client.clientId,
    'network.peer.address': client.remoteAddress,
    'network.protocol.name': 'mqtt',
    'network.protocol.version': VERSIONS[client.protocolVersion],
    'messaging.mqtt.listener': client.listener,
  };
}

function finish(span: Span, errorType?: string): void {
  if (errorType) {
    span.setAttribute('error.type', errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
  }
  span.end();
}

class SpanHandle implements TraceSpan {
  constructor(protected readonly span: Span) {}
  end(errorType?: string): void {
    finish(this.span, errorType);
  }
}

class Delivery extends SpanHandle implements DeliveryTrace {
  readonly traceparent: string;
  readonly tracestate: string | undefined;
  constructor(span: Span) {
    super(span);
    const ctx = span.spanContext();
    this.traceparent = formatTraceparent(ctx);
    this.tracestate = ctx.traceState?.serialize() || undefined;
  }
}

class Publish extends SpanHandle implements PublishTrace {
  readonly logFields: Readonly<Record<string, string>>;
  private readonly context: Context;

  constructor(
    private readonly tracer: Tracer,
    span: Span,
    private readonly msg: Message,
  ) {
    super(span);
    const ctx = span.spanContext();
    this.logFields = { trace_id: ctx.traceId, span_id: ctx.spanId };
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  child(name: 'authorize' | 'route' | 'persist'): TraceSpan {
    return new SpanHandle(this.tracer.startSpan(name, { kind: SpanKind.INTERNAL }, this.context));
  }

  deliver(subscriber: ClientInfo, qos: QoS): DeliveryTrace {
    const attributes: Attributes = {
      ...clientAttributes(subscriber),
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'deliver',
      'messaging.destination.name': this.msg.topic,
      'messaging.message.body.size': this.msg.payload.length,
      'messaging.mqtt.qos': qos,
    };
    return new Delivery(
      this.tracer.startSpan('deliver', { kind: SpanKind.PRODUCER, attributes }, this.context),
    );
  }
}

/**
 * OpenTelemetry tracing of every message's path (publish → authorize, route, deliver per subscriber) and
 * spans for connect, subscribe, unsubscribe and disconnect. The SDK runs with an always-on sampler: the
 * decision is taken here, by `SamplingPolicy`, before any span object exists.
 */
export class OtelTracing implements MessageTracer {
  readonly observer: BrokerObserver;

  constructor(
    private readonly tracer: Tracer,
    private readonly sampling: SamplingPolicy,
  ) {
    this.observer = {
      clientConnected: (c, present) =>
        this.controlSpan('connect', c, {
          'messaging.mqtt.reason_code': 0,
          'messaging.mqtt.session_present': present,
        }),
      connectRefused: (c, code) =>
        this.controlSpan('connect', c, { 'messaging.mqtt.reason_code': code }, 'refused'),
      clientDisconnected: (c, cause: DisconnectCause, code) =>
        this.controlSpan(
          'disconnect',
          c,
          { 'messaging.mqtt.reason_code': code, 'messaging.mqtt.disconnect_cause': cause },
          cause === 'client_disconnect' ? undefined : cause,
        ),
      subscribed: (c, filter, qos, code) =>
        this.controlSpan(
          'subscribe',
          c,
          {
            'messaging.destination.name': filter,
            'messaging.mqtt.qos': qos,
            'messaging.mqtt.reason_code': code,
          },
          code >= 0x80 ? 'refused' : undefined,
        ),
      unsubscribed: (c, filter) =>
        this.controlSpan('unsubscribe', c, { 'messaging.destination.name': filter }),
    };
  }

  startPublish(publisher: ClientInfo | undefined, msg: Message): PublishTrace | undefined {
    const parent = extractTraceContext(msg.properties?.userProperties);
    const parentSampled = parent ? (parent.traceFlags & 1) === 1 : undefined;
    if (!this.sampling.shouldSample(publisher?.clientId, msg.topic, parentSampled)) return undefined;
    const attributes: Attributes = {
      ...(publisher ? clientAttributes(publisher) : { 'messaging.system': SYSTEM }),
      'messaging.operation.type': 'receive',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': msg.topic,
      'messaging.message.body.size': msg.payload.length,
      'messaging.mqtt.qos': msg.qos,
      'messaging.mqtt.retain': msg.retain,
    };
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    const span = this.tracer.startSpan('publish', { kind: SpanKind.CONSUMER, attributes }, context);
    return new Publish(this.tracer, span, msg);
  }

  private controlSpan(name: string, client: ClientInfo, extra: Attributes, errorType?: string): void {
    if (!this.sampling.shouldSample(client.clientId, undefined, undefined)) return;
    const attributes = { ...clientAttributes(client), 'messaging.operation.name': name, ...extra };
    finish(this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }), errorType);
  }
}
