import type { QoS } from '@fluxmq/codec';
import type { ClientInfo } from '@fluxmq/engine';
import {
  AnyValueField,
  encoded,
  KeyValueField,
  sampledSpanFlags,
  spanAttributesBytes,
  SpanField,
  SpanKindCode,
  writeAttributes,
  writeErrorStatus,
} from '../otlp/otlp-proto';
import { ProtoWriter, WireType } from '../otlp/proto-writer';
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

// The pieces of a message span's protobuf that do not change from one span to the next, encoded once.

export type ChildName = 'authorize' | 'route' | 'persist';

/** A span's name, kind and flags. */
function head(name: string, kind: number, remoteParent = false): Buffer {
  return encoded((out) => {
    out.stringField(SpanField.name, name);
    out.tag(SpanField.kind, WireType.varint);
    out.varint(kind);
    out.tag(SpanField.flags, WireType.fixed32);
    out.fixed32(sampledSpanFlags(remoteParent));
  });
}

export const PUBLISH_HEAD = head('publish', SpanKindCode.consumer);
export const PUBLISH_WITH_REMOTE_PARENT_HEAD = head('publish', SpanKindCode.consumer, true);
const DELIVER_HEAD = head('deliver', SpanKindCode.producer);
export const CHILD_HEAD: Record<ChildName, Buffer> = {
  authorize: head('authorize', SpanKindCode.internal),
  route: head('route', SpanKindCode.internal),
  persist: head('persist', SpanKindCode.internal),
};

/** The attributes a client gives the spans of messages it publishes: its own, and the operation's. */
export function publisherPiece(publisher: ClientInfo | undefined): Buffer {
  return publisher ? piecesOf(publisher).asPublisher : BROKER_AS_PUBLISHER;
}

const BROKER_AS_PUBLISHER = spanAttributesBytes({ ...publisherAttributes(undefined), ...PUBLISH_OPERATION });

/** All of a delivery span to `subscriber` at `qos` but its ids, times and message: one copy per span. */
export function deliveryPiece(subscriber: ClientInfo, qos: QoS): Buffer {
  const pieces = piecesOf(subscriber);
  return (pieces.asSubscriber[qos] ??= Buffer.concat([
    DELIVER_HEAD,
    pieces.subscriberAttributes,
    QOS_ATTRIBUTE[qos],
  ]));
}

interface ClientPieces {
  readonly asPublisher: Buffer;
  readonly subscriberAttributes: Buffer;
  readonly asSubscriber: (Buffer | undefined)[];
}

// Encoded the first time one of the client's spans ends, then reused for the rest of its connection:
// every delivery span of a fan-out carries a different subscriber's attributes.
const clientPiecesCache = new WeakMap<ClientInfo, ClientPieces>();

function piecesOf(client: ClientInfo): ClientPieces {
  let pieces = clientPiecesCache.get(client);
  if (pieces === undefined) {
    const attributes = clientAttributes(client);
    pieces = {
      asPublisher: spanAttributesBytes({ ...attributes, ...PUBLISH_OPERATION }),
      subscriberAttributes: spanAttributesBytes({ ...attributes, ...DELIVERY_OPERATION }),
      asSubscriber: [],
    };
    clientPiecesCache.set(client, pieces);
  }
  return pieces;
}

const QOS_ATTRIBUTE = ([0, 1, 2] as const).map((qos: QoS) => spanAttributesBytes(qosAttribute(qos)));

/** A publish span's QoS and retain attributes, by QoS then retain: one copy. */
export const QOS_AND_RETAIN_ATTRIBUTES = QOS_ATTRIBUTE.map((qos) =>
  [false, true].map((retain) => Buffer.concat([qos, spanAttributesBytes(retainAttribute(retain))])),
);

export function writeTimes(out: ProtoWriter, start: number, end: number): void {
  out.unixNanoField(SpanField.startTime, start);
  out.unixNanoField(SpanField.endTime, end);
}

/** A failed span's `error.type` attribute and error status; nothing for a span that did not fail. */
export function writeOutcome(out: ProtoWriter, errorType: string | undefined): void {
  if (errorType === undefined) return;
  writeAttributes(out, SpanField.attributes, { 'error.type': errorType });
  writeErrorStatus(out, errorType);
}

/** The message a span belongs to, as its spans need it. */
export interface MessageDestination {
  readonly topic: string;
  readonly bodySize: number;
  /** Trace id, trace state and the publish span as parent: what each of the message's other spans has. */
  writeAsParent(out: ProtoWriter): void;
}

/** `key` as the first field of an attribute's `KeyValue`. */
function attributeKey(key: string): Buffer {
  return encoded((out) => out.stringField(KeyValueField.key, key));
}

const DESTINATION_KEY = attributeKey(DESTINATION_NAME);
const BODY_SIZE_KEY = attributeKey(BODY_SIZE);

/** The topic and size attributes (`messaging.destination.name`, `messaging.message.body.size`). */
export function writeDestination(out: ProtoWriter, message: MessageDestination): void {
  let attribute = out.beginDelimited(SpanField.attributes, 1);
  out.bytes(DESTINATION_KEY);
  let value = out.beginDelimited(KeyValueField.value, 1);
  out.stringField(AnyValueField.string, message.topic);
  out.endDelimited(value, 1);
  out.endDelimited(attribute, 1);
  attribute = out.beginDelimited(SpanField.attributes, 1);
  out.bytes(BODY_SIZE_KEY);
  value = out.beginDelimited(KeyValueField.value, 1);
  out.tag(AnyValueField.int, WireType.varint);
  out.varint(message.bodySize);
  out.endDelimited(value, 1);
  out.endDelimited(attribute, 1);
}

/**
 * A delivery span's trace, parent and destination attributes, the same for every delivery of a message:
 * encoded once per message and copied whole into the deliveries of a fan-out, which follow one another.
 * The first delivery of a message writes them itself: most messages go to one subscriber, and encoding a
 * piece to copy it once would cost more than it saves.
 */
class DeliveryParts {
  private message: MessageDestination | undefined;
  private piece: Buffer | undefined;
  private readonly scratch = new ProtoWriter(256);

  write(out: ProtoWriter, message: MessageDestination): void {
    if (message !== this.message) {
      this.message = message;
      this.piece = undefined;
      writeParts(out, message);
      return;
    }
    if (this.piece === undefined) {
      this.scratch.reset();
      writeParts(this.scratch, message);
      this.piece = Buffer.from(this.scratch.bytesWritten);
    }
    out.bytes(this.piece);
  }
}

function writeParts(out: ProtoWriter, message: MessageDestination): void {
  message.writeAsParent(out);
  writeDestination(out, message);
}

export const deliveryParts = new DeliveryParts();
