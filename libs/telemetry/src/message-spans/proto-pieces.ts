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

export const QOS_ATTRIBUTE = ([0, 1, 2] as const).map((qos: QoS) => spanAttributesBytes(qosAttribute(qos)));
export const RETAIN_ATTRIBUTE = [false, true].map((retain) => spanAttributesBytes(retainAttribute(retain)));

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

/** What the pieces shared by the spans of one message are made from. */
export interface MessageIds {
  readonly traceState: string | undefined;
  readonly topic: string;
  readonly bodySize: number;
  writeTraceId(out: ProtoWriter): void;
  /** The publish span's id, as the parent of the message's other spans. */
  writeIdAsParent(out: ProtoWriter): void;
}

/** `key` as the first field of an attribute's `KeyValue`. */
function attributeKey(key: string): Buffer {
  return encoded((out) => out.stringField(KeyValueField.key, key));
}

const DESTINATION_KEY = attributeKey(DESTINATION_NAME);
const BODY_SIZE_KEY = attributeKey(BODY_SIZE);

/**
 * The bytes that the spans of one message share (their trace and parent, its topic and size), encoded
 * once and copied whole into each of the message's spans, which mostly follow one another (a fan-out's
 * deliveries always). Protobuf fields may come in any order, so a delivery span takes all of them in one
 * copy: a fan-out makes one delivery span per subscriber, and each copy has a fixed cost.
 */
class MessagePieces {
  private message: MessageIds | undefined;
  private readonly scratch = new ProtoWriter(512);
  private parentage: Buffer | undefined;
  private destination: Buffer | undefined;
  private parentageAndDestination: Buffer | undefined;

  /** Trace id, trace state and parent of a span whose parent is the message's publish span. */
  writeChildParentage(out: ProtoWriter, message: MessageIds): void {
    this.select(message);
    out.bytes((this.parentage ??= this.encode((w) => writeParentage(w, message))));
  }

  /** The topic and size attributes. */
  writeDestination(out: ProtoWriter, message: MessageIds): void {
    this.select(message);
    out.bytes((this.destination ??= this.encode((w) => writeDestination(w, message))));
  }

  /** Both of the above. */
  writeChildParentageAndDestination(out: ProtoWriter, message: MessageIds): void {
    this.select(message);
    out.bytes(
      (this.parentageAndDestination ??= this.encode((w) => {
        writeParentage(w, message);
        writeDestination(w, message);
      })),
    );
  }

  private select(message: MessageIds): void {
    if (message === this.message) return;
    this.message = message;
    this.parentage = undefined;
    this.destination = undefined;
    this.parentageAndDestination = undefined;
  }

  private encode(write: (out: ProtoWriter) => void): Buffer {
    this.scratch.reset();
    write(this.scratch);
    return Buffer.from(this.scratch.bytesWritten);
  }
}

function writeParentage(out: ProtoWriter, message: MessageIds): void {
  message.writeTraceId(out);
  if (message.traceState !== undefined) out.stringField(SpanField.traceState, message.traceState);
  message.writeIdAsParent(out);
}

function writeDestination(out: ProtoWriter, message: MessageIds): void {
  let attribute = out.beginDelimited(SpanField.attributes);
  out.bytes(DESTINATION_KEY);
  let value = out.beginDelimited(KeyValueField.value);
  out.stringField(AnyValueField.string, message.topic);
  out.endDelimited(value);
  out.endDelimited(attribute);
  attribute = out.beginDelimited(SpanField.attributes);
  out.bytes(BODY_SIZE_KEY);
  value = out.beginDelimited(KeyValueField.value);
  out.tag(AnyValueField.int, WireType.varint);
  out.varint(message.bodySize);
  out.endDelimited(value);
  out.endDelimited(attribute);
}

export const messagePieces = new MessagePieces();
