import type {
  BrokerObserver,
  ClientInfo,
  DisconnectCause,
  Message,
  MessageTracer,
  PublishTrace,
} from '@fluxmq/engine';
import { SpanKind, TraceFlags, type Attributes, type SpanContext, type Tracer } from '@opentelemetry/api';
import { MessageSpanRecorder, type SpanSink } from './message-spans/recorder';
import { installedSpanExporter } from './otlp/span-exporter';
import type { SamplingPolicy } from './sampling';
import { endSpan, SdkMessageSpans } from './sdk-message-spans';
import { clientAttributes } from './span-attributes';
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
  readonly observer: BrokerObserver;
  private readonly messageSpans: MessageSpans;

  constructor(
    private readonly tracer: Tracer,
    private readonly sampling: SamplingPolicy,
    exporter: SpanSink | undefined = installedSpanExporter(),
  ) {
    this.messageSpans = exporter ? new MessageSpanRecorder(exporter) : new SdkMessageSpans(tracer);
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
    const parentSampled = parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : undefined;
    if (!this.sampling.shouldSample(publisher?.clientId, msg.topic, parentSampled)) return undefined;
    return this.messageSpans.start(publisher, msg, parent);
  }

  private controlSpan(name: string, client: ClientInfo, extra: Attributes, errorType?: string): void {
    if (!this.sampling.shouldSample(client.clientId, undefined, undefined)) return;
    const attributes = { ...clientAttributes(client), 'messaging.operation.name': name, ...extra };
    endSpan(this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }), errorType);
  }
}
