import type { QoS } from '@fluxmq/codec';
import type { ClientInfo } from '@fluxmq/engine';
import type { Attributes } from '@opentelemetry/api';
import {
  attributePrefixJson,
  attributesJson,
  errorStatusJson,
  jsonString,
  sampledSpanFlags,
  SpanKindCode,
  spanNameJson,
  spanParentageJson,
  STATUS_UNSET,
} from '../otlp/json';
import { asciiBytes, WrittenText, type JsonWriter } from '../otlp/json-writer';
import {
  BODY_SIZE,
  clientAttributes,
  DELIVERY_OPERATION,
  DESTINATION_NAME,
  PUBLISH_OPERATION,
  publisherAttributes,
  qosAttribute,
  retainAttribute,
} from '../span-attributes';

// A message span's JSON: `{"traceId":…,"parentSpanId":…` (its parentage), `,"name":…,"spanId":"`, its
// id, its times, its attributes, its status. What does not change from one span to the next is encoded
// once, here.

export type ChildName = 'authorize' | 'route' | 'persist';

const ATTRIBUTES = '","attributes":[';
const OK_END = `],"status":${STATUS_UNSET}}`;
const START_TIME = asciiBytes('","startTimeUnixNano":"');
const END_TIME = asciiBytes('","endTimeUnixNano":"');
const NO_ATTRIBUTES_OK_END = asciiBytes(`${ATTRIBUTES}${OK_END}`);
const DESTINATION = asciiBytes(`,${attributePrefixJson(DESTINATION_NAME, 'stringValue')}`);
const BODY_SIZE_AFTER_DESTINATION = asciiBytes(`}},${attributePrefixJson(BODY_SIZE, 'intValue')}`);
const ATTRIBUTE_END = asciiBytes('}}');

export const PUBLISH_NAME = spanNameJson('publish', SpanKindCode.consumer, sampledSpanFlags(false));
export const PUBLISH_WITH_REMOTE_PARENT_NAME = spanNameJson(
  'publish',
  SpanKindCode.consumer,
  sampledSpanFlags(true),
);
export const DELIVER_NAME = asciiBytes(
  spanNameJson('deliver', SpanKindCode.producer, sampledSpanFlags(false)),
);
export const CHILD_NAME: Record<ChildName, Buffer> = {
  authorize: asciiBytes(spanNameJson('authorize', SpanKindCode.internal, sampledSpanFlags(false))),
  route: asciiBytes(spanNameJson('route', SpanKindCode.internal, sampledSpanFlags(false))),
  persist: asciiBytes(spanNameJson('persist', SpanKindCode.internal, sampledSpanFlags(false))),
};

/** Attributes as a fragment to append to a list: with a leading comma. */
function appended(attributes: Attributes): string {
  return `,${attributesJson(attributes)}`;
}

const QOS = ([0, 1, 2] as const).map((qos) => appended(qosAttribute(qos)));
const QOS_JSON = QOS.map(asciiBytes);
const QOS_OK_END = QOS.map((qos) => asciiBytes(`${qos}${OK_END}`));
const RETAIN = [false, true].map((retain) => appended(retainAttribute(retain)));
const RETAIN_JSON = RETAIN.map(asciiBytes);
const RETAIN_OK_END = RETAIN.map((retain) => asciiBytes(`${retain}${OK_END}`));

/** The attributes a client gives its spans, from `","attributes":[` to those of the operation. */
export interface ClientJson {
  readonly asPublisher: Buffer;
  readonly asSubscriber: Buffer;
}

function clientJsonOf(attributes: Attributes): ClientJson {
  const own = `${ATTRIBUTES}${attributesJson(attributes)}`;
  return {
    asPublisher: asciiBytes(`${own}${appended(PUBLISH_OPERATION)}`),
    asSubscriber: asciiBytes(`${own}${appended(DELIVERY_OPERATION)}`),
  };
}

export const BROKER_AS_PUBLISHER = clientJsonOf(publisherAttributes(undefined));

// Encoded the first time one of the client's spans is exported, then reused for the rest of its
// connection: every delivery span of a fan-out carries a different subscriber's attributes.
const clientJsonCache = new WeakMap<ClientInfo, ClientJson>();

export function clientJson(client: ClientInfo): ClientJson {
  let json = clientJsonCache.get(client);
  if (json === undefined) {
    json = clientJsonOf(clientAttributes(client));
    clientJsonCache.set(client, json);
  }
  return json;
}

export function writeTimes(out: JsonWriter, start: number, end: number): void {
  out.bytes(START_TIME);
  out.unixNano(start);
  out.bytes(END_TIME);
  out.unixNano(end);
}

/** The rest of a span without attributes of its own (authorize, route, persist). */
export function writeNoAttributesEnd(out: JsonWriter, errorType: string | undefined): void {
  if (errorType === undefined) return out.bytes(NO_ATTRIBUTES_OK_END);
  out.text(ATTRIBUTES);
  writeFailedEnd(out, errorType, false);
}

export function writeQosEnd(out: JsonWriter, qos: QoS, errorType: string | undefined): void {
  if (errorType === undefined) return out.bytes(QOS_OK_END[qos]);
  out.bytes(QOS_JSON[qos]);
  writeFailedEnd(out, errorType, true);
}

export function writeQosRetainEnd(
  out: JsonWriter,
  qos: QoS,
  retain: boolean,
  errorType: string | undefined,
): void {
  out.bytes(QOS_JSON[qos]);
  if (errorType === undefined) return out.bytes(RETAIN_OK_END[Number(retain)]);
  out.bytes(RETAIN_JSON[Number(retain)]);
  writeFailedEnd(out, errorType, true);
}

/** The end of a span that failed: its error type as the last attribute, and the status. */
function writeFailedEnd(out: JsonWriter, errorType: string, hasAttributes: boolean): void {
  const error = attributesJson({ 'error.type': errorType });
  out.text(`${hasAttributes ? ',' : ''}${error}],"status":${errorStatusJson(errorType)}}`);
}

/** What the text shared by the spans of one message is made from. */
export interface MessageIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string | undefined;
  readonly topic: string;
  readonly bodySize: number;
}

/**
 * The text that the spans of one message share (their parentage, its topic and size), written once per
 * batch and copied for the message's other spans, which mostly follow one another in a batch (a
 * fan-out's deliveries always). Kept here, not on the message's record: by the time a record is exported
 * it has usually been promoted to the old generation, and whatever it pointed to would be promoted too.
 */
class MessageText {
  private message: MessageIds | undefined;
  private readonly parentage = new WrittenText();
  private readonly destination = new WrittenText();

  /** `{"traceId":…,"parentSpanId":…` of a span whose parent is the message's publish span. */
  writeChildParentage(out: JsonWriter, message: MessageIds): void {
    this.select(message);
    if (out.repeat(this.parentage)) return;
    out.startPiece(this.parentage);
    out.text(spanParentageJson(message.traceId, message.spanId, message.traceState));
    out.endPiece(this.parentage);
  }

  /** The topic and size attributes, with a leading comma. */
  writeDestination(out: JsonWriter, message: MessageIds): void {
    this.select(message);
    if (out.repeat(this.destination)) return;
    out.startPiece(this.destination);
    out.bytes(DESTINATION);
    out.text(jsonString(message.topic));
    out.bytes(BODY_SIZE_AFTER_DESTINATION);
    out.integer(message.bodySize);
    out.bytes(ATTRIBUTE_END);
    out.endPiece(this.destination);
  }

  private select(message: MessageIds): void {
    if (message === this.message) return;
    this.message = message;
    this.parentage.generation = -1;
    this.destination.generation = -1;
  }
}

export const messageText = new MessageText();
