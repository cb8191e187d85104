import { performance } from 'node:perf_hooks';
import type { QoS } from '@fluxmq/codec';
import type { ClientInfo, DeliveryTrace, Message, PublishTrace, TraceSpan } from '@fluxmq/engine';
import type { SpanContext } from '@opentelemetry/api';
import { SpanField } from '../otlp/otlp-proto';
import type { ProtoWriter } from '../otlp/proto-writer';
import type { EncodableSpan } from '../otlp/span-batch';
import { hexWord, randomWord, wordOfHex } from '../span-ids';
import {
  CHILD_HEAD,
  deliveryPiece,
  deliveryParts,
  PUBLISH_HEAD,
  PUBLISH_WITH_REMOTE_PARENT_HEAD,
  QOS_AND_RETAIN_ATTRIBUTES,
  publisherPiece,
  writeOutcome,
  writeTimes,
  type ChildName,
  writeDestination,
  type MessageDestination,
} from './proto-pieces';
import type { SpanSink } from './recorder';

// Each record is encoded into the exporter's open batch the moment it ends (a delivery during routing: at
// the next clock reading), and is garbage from then on.

/** Deliveries of one route that share a clock reading (see PublishRecord.routing). */
const DELIVERIES_PER_READING = 16;

export class PublishRecord implements PublishTrace, EncodableSpan, MessageDestination {
  // Ids as words (see span-ids): the trace's, then the span's.
  private readonly t0: number;
  private readonly t1: number;
  private readonly t2: number;
  private readonly t3: number;
  private readonly s0 = randomWord();
  private readonly s1 = randomWord();
  readonly traceState: string | undefined;
  // Copies, not the publisher and message themselves: a retained message keeps its trace, and must not keep
  // its publisher's connection or the socket buffer its payload came in.
  readonly topic: string;
  readonly bodySize: number;
  private readonly qos: QoS;
  private readonly retain: boolean;
  private readonly publisher: Buffer;
  private readonly parentSpanId: string | undefined;
  private readonly start: number;
  private finish = 0;
  private errorType: string | undefined;
  // While the message is routed, its deliveries follow one another in one synchronous loop, and share clock
  // readings: a fan-out makes a delivery span per subscriber, and a clock read costs a fifth of one. Each
  // delivery starts at the last reading and its span is held until the next, taken after every
  // DELIVERIES_PER_READING deliveries or when the route ends: its times bound it truly, to within a few
  // microseconds in a large fan-out.
  private routing = false;
  private lastReading = 0;
  private ending: DeliveryRecord[] | undefined;
  private traceIdHex: string | undefined;
  private logFieldsOnce: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly sink: SpanSink,
    publisher: ClientInfo | undefined,
    msg: Message,
    parent: SpanContext | undefined,
  ) {
    const traceId = parent?.traceId;
    this.t0 = traceId === undefined ? randomWord() : wordOfHex(traceId, 0);
    this.t1 = traceId === undefined ? randomWord() : wordOfHex(traceId, 1);
    this.t2 = traceId === undefined ? randomWord() : wordOfHex(traceId, 2);
    this.t3 = traceId === undefined ? randomWord() : wordOfHex(traceId, 3);
    this.parentSpanId = parent?.spanId;
    this.traceState = parent?.traceState?.serialize() || undefined;
    this.start = msg.receivedAt; // when the broker read it: a clock read saved, and a truer start
    this.publisher = publisherPiece(publisher);
    this.topic = msg.topic;
    this.bodySize = msg.payload.length;
    this.qos = msg.qos;
    this.retain = msg.retain;
  }

  get traceId(): string {
    return (this.traceIdHex ??= hexWord(this.t0) + hexWord(this.t1) + hexWord(this.t2) + hexWord(this.t3));
  }

  get logFields(): Readonly<Record<string, string>> {
    return (this.logFieldsOnce ??= {
      trace_id: this.traceId,
      span_id: hexWord(this.s0) + hexWord(this.s1),
    });
  }

  writeAsParent(out: ProtoWriter): void {
    out.traceIdField(SpanField.traceId, this.t0, this.t1, this.t2, this.t3);
    if (this.traceState !== undefined) out.stringField(SpanField.traceState, this.traceState);
    out.spanIdField(SpanField.parentSpanId, this.s0, this.s1);
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
    this.lastReading = at;
  }

  routeEnded(at: number): void {
    this.finishDeliveries(at);
    this.routing = false;
  }

  deliveryStart(): number {
    return this.routing ? this.lastReading : performance.now();
  }

  deliveryEnded(delivery: DeliveryRecord): void {
    if (!this.routing) return delivery.finishAt(performance.now());
    const ending = (this.ending ??= []);
    ending.push(delivery);
    if (ending.length === DELIVERIES_PER_READING) this.finishDeliveries(performance.now());
  }

  private finishDeliveries(at: number): void {
    this.lastReading = at;
    const ending = this.ending;
    if (ending === undefined) return;
    for (let i = 0; i < ending.length; i++) ending[i].finishAt(at);
    ending.length = 0;
  }

  encodeOtlp(out: ProtoWriter): void {
    out.traceIdField(SpanField.traceId, this.t0, this.t1, this.t2, this.t3);
    out.spanIdField(SpanField.spanId, this.s0, this.s1);
    if (this.traceState !== undefined) out.stringField(SpanField.traceState, this.traceState);
    if (this.parentSpanId === undefined) out.bytes(PUBLISH_HEAD);
    else {
      out.hexField(SpanField.parentSpanId, this.parentSpanId);
      out.bytes(PUBLISH_WITH_REMOTE_PARENT_HEAD);
    }
    writeTimes(out, this.start, this.finish);
    out.bytes(this.publisher);
    writeDestination(out, this);
    out.bytes(QOS_AND_RETAIN_ATTRIBUTES[this.qos][Number(this.retain)]);
    writeOutcome(out, this.errorType);
  }
}

class ChildRecord implements TraceSpan, EncodableSpan {
  private readonly idHigh = randomWord();
  private readonly idLow = randomWord();
  private readonly start = performance.now();
  private finish = 0;
  private errorType: string | undefined;

  constructor(
    private readonly publish: PublishRecord,
    private readonly name: ChildName,
  ) {
    if (name === 'route') publish.routeStarted(this.start);
  }

  end(errorType?: string): void {
    if (this.finish !== 0) return;
    this.finish = performance.now();
    this.errorType = errorType;
    if (this.name === 'route') this.publish.routeEnded(this.finish);
    this.publish.sink.add(this);
  }

  encodeOtlp(out: ProtoWriter): void {
    this.publish.writeAsParent(out);
    out.spanIdField(SpanField.spanId, this.idHigh, this.idLow);
    out.bytes(CHILD_HEAD[this.name]);
    writeTimes(out, this.start, this.finish);
    writeOutcome(out, this.errorType);
  }
}

class DeliveryRecord implements DeliveryTrace, EncodableSpan {
  private readonly idHigh = randomWord();
  private readonly idLow = randomWord();
  private readonly start: number;
  private ended = false;
  private finish = 0;
  private errorType: string | undefined;

  constructor(
    private readonly publish: PublishRecord,
    private readonly subscriber: ClientInfo,
    private readonly qos: QoS,
  ) {
    this.start = publish.deliveryStart();
  }

  /** Read only for 5.0 subscribers, so built only for them. */
  get traceparent(): string {
    return `00-${this.publish.traceId}-${hexWord(this.idHigh)}${hexWord(this.idLow)}-01`;
  }

  get tracestate(): string | undefined {
    return this.publish.traceState;
  }

  end(errorType?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.errorType = errorType;
    this.publish.deliveryEnded(this);
  }

  finishAt(time: number): void {
    this.finish = time;
    this.publish.sink.add(this);
  }

  encodeOtlp(out: ProtoWriter): void {
    deliveryParts.write(out, this.publish);
    out.spanIdField(SpanField.spanId, this.idHigh, this.idLow);
    writeTimes(out, this.start, this.finish);
    out.bytes(deliveryPiece(this.subscriber, this.qos));
    writeOutcome(out, this.errorType);
  }
}
