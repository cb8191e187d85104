import { performance } from 'node:perf_hooks';
import type { QoS } from '@fluxmq/codec';
import type { ClientInfo, DeliveryTrace, Message, PublishTrace, TraceSpan } from '@fluxmq/engine';
import type { SpanContext } from '@opentelemetry/api';
import { spanParentageJson, type ExportableSpan, type OtlpScope } from '../otlp/json';
import type { JsonWriter } from '../otlp/json-writer';
import { newShortLivedSpanId, newSpanId, newTraceId } from '../span-ids';
import {
  BROKER_AS_PUBLISHER,
  CHILD_NAME,
  clientJson,
  DELIVER_NAME,
  messageText,
  PUBLISH_NAME,
  PUBLISH_WITH_REMOTE_PARENT_NAME,
  writeNoAttributesEnd,
  writeQosEnd,
  writeQosRetainEnd,
  writeTimes,
  type ChildName,
  type ClientJson,
  type MessageIds,
} from './json-pieces';
import type { SpanSink } from './recorder';

export class PublishRecord implements PublishTrace, ExportableSpan, MessageIds {
  readonly traceId: string;
  readonly spanId = newSpanId();
  readonly traceState: string | undefined;
  // Copies, not the publisher and message themselves: a retained message keeps its trace, and must not keep
  // its publisher's connection or the socket buffer its payload came in.
  readonly topic: string;
  readonly bodySize: number;
  private readonly qos: QoS;
  private readonly retain: boolean;
  private readonly publisherJson: ClientJson;
  private readonly parentSpanId: string | undefined;
  private readonly start: number;
  private finish = 0;
  private errorType: string | undefined;
  // While the message is routed, its deliveries follow one another: each starts where the previous span
  // of the message ended, which saves a clock read per subscriber of a fan-out.
  private routing = false;
  private lastTick = 0;
  private logFieldsOnce: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly sink: SpanSink,
    publisher: ClientInfo | undefined,
    msg: Message,
    parent: SpanContext | undefined,
  ) {
    this.traceId = parent?.traceId ?? newTraceId();
    this.parentSpanId = parent?.spanId;
    this.traceState = parent?.traceState?.serialize() || undefined;
    this.start = msg.receivedAt; // when the broker read it: a clock read saved, and a truer start
    this.publisherJson = publisher ? clientJson(publisher) : BROKER_AS_PUBLISHER;
    this.topic = msg.topic;
    this.bodySize = msg.payload.length;
    this.qos = msg.qos;
    this.retain = msg.retain;
  }

  get scope(): OtlpScope {
    return this.sink.scope;
  }

  get logFields(): Readonly<Record<string, string>> {
    return (this.logFieldsOnce ??= { trace_id: this.traceId, span_id: this.spanId });
  }

  child(name: ChildName): TraceSpan {
    return new ChildRecord(this, name);
  }

  deliver(subscriber: ClientInfo, qos: QoS): DeliveryTrace {
    return new DeliveryRecord(this, subscriber, qos);
  }

  end(errorType?: string): void {
    if (this.finish !== 0) return;
    this.finish = performance.now();
    this.errorType = errorType;
    this.sink.add(this);
  }

  routeStarted(at: number): void {
    this.routing = true;
    this.lastTick = at;
  }

  routeEnded(): void {
    this.routing = false;
  }

  deliveryStart(): number {
    return this.routing ? this.lastTick : performance.now();
  }

  deliveryEnd(): number {
    const now = performance.now();
    if (this.routing) this.lastTick = now;
    return now;
  }

  writeOtlpJson(out: JsonWriter): void {
    out.text(spanParentageJson(this.traceId, this.parentSpanId, this.traceState));
    out.text(this.parentSpanId === undefined ? PUBLISH_NAME : PUBLISH_WITH_REMOTE_PARENT_NAME);
    out.text(this.spanId);
    writeTimes(out, this.start, this.finish);
    out.bytes(this.publisherJson.asPublisher);
    messageText.writeDestination(out, this);
    writeQosRetainEnd(out, this.qos, this.retain, this.errorType);
  }
}

class ChildRecord implements TraceSpan, ExportableSpan {
  private readonly spanId = newShortLivedSpanId();
  private readonly start = performance.now();
  private finish = 0;
  private errorType: string | undefined;

  constructor(
    private readonly publish: PublishRecord,
    private readonly name: ChildName,
  ) {
    if (name === 'route') publish.routeStarted(this.start);
  }

  get scope(): OtlpScope {
    return this.publish.scope;
  }

  end(errorType?: string): void {
    if (this.finish !== 0) return;
    this.finish = performance.now();
    this.errorType = errorType;
    if (this.name === 'route') this.publish.routeEnded();
    this.publish.sink.add(this);
  }

  writeOtlpJson(out: JsonWriter): void {
    messageText.writeChildParentage(out, this.publish);
    out.bytes(CHILD_NAME[this.name]);
    out.text(this.spanId);
    writeTimes(out, this.start, this.finish);
    writeNoAttributesEnd(out, this.errorType);
  }
}

class DeliveryRecord implements DeliveryTrace, ExportableSpan {
  private readonly spanId = newShortLivedSpanId();
  private readonly start: number;
  private finish = 0;
  private errorType: string | undefined;

  constructor(
    private readonly publish: PublishRecord,
    private readonly subscriber: ClientInfo,
    private readonly qos: QoS,
  ) {
    this.start = publish.deliveryStart();
  }

  get scope(): OtlpScope {
    return this.publish.scope;
  }

  /** Read only for 5.0 subscribers, so built only for them. */
  get traceparent(): string {
    return `00-${this.publish.traceId}-${this.spanId}-01`;
  }

  get tracestate(): string | undefined {
    return this.publish.traceState;
  }

  end(errorType?: string): void {
    if (this.finish !== 0) return;
    this.finish = this.publish.deliveryEnd();
    this.errorType = errorType;
    this.publish.sink.add(this);
  }

  writeOtlpJson(out: JsonWriter): void {
    messageText.writeChildParentage(out, this.publish);
    out.bytes(DELIVER_NAME);
    out.text(this.spanId);
    writeTimes(out, this.start, this.finish);
    out.bytes(clientJson(this.subscriber).asSubscriber);
    messageText.writeDestination(out, this.publish);
    writeQosEnd(out, this.qos, this.errorType);
  }
}
