import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { ProtoWriter, WireType } from './proto-writer';

// OTLP's trace messages (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto): their field
// numbers, and encoders for the parts that are not specific to one kind of span.

export const RequestField = { resourceSpans: 1 } as const;
export const ResourceSpansField = { resource: 1, scopeSpans: 2 } as const;
export const ResourceField = { attributes: 1 } as const;
export const ScopeSpansField = { scope: 1, spans: 2 } as const;
export const ScopeField = { name: 1, version: 2 } as const;
export const SpanField = {
  traceId: 1,
  spanId: 2,
  traceState: 3,
  parentSpanId: 4,
  name: 5,
  kind: 6,
  startTime: 7,
  endTime: 8,
  attributes: 9,
  droppedAttributesCount: 10,
  events: 11,
  droppedEventsCount: 12,
  links: 13,
  droppedLinksCount: 14,
  status: 15,
  flags: 16,
} as const;
export const EventField = { time: 1, name: 2, attributes: 3, droppedAttributesCount: 4 } as const;
export const LinkField = {
  traceId: 1,
  spanId: 2,
  traceState: 3,
  attributes: 4,
  droppedAttributesCount: 5,
  flags: 6,
} as const;
export const StatusField = { message: 2, code: 3 } as const;
export const KeyValueField = { key: 1, value: 2 } as const;
export const AnyValueField = { string: 1, bool: 2, int: 3, double: 4, array: 5 } as const;
const ArrayValueField = { values: 1 } as const;

export const SpanKindCode = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export const StatusCode = { unset: 0, ok: 1, error: 2 } as const;

/**
 * OTLP span flags of a sampled span: bits 0-7 are the W3C trace flags (sampled = 1), bit 8 says that
 * whether the parent is remote is known, bit 9 that it is.
 */
export function sampledSpanFlags(remoteParent: boolean): number {
  return remoteParent ? 0x301 : 0x101;
}

/** Each attribute as a `KeyValue` in field `field` (a span's, an event's, a resource's attributes). */
export function writeAttributes(out: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    const mark = out.beginDelimited(field, 1); // most attributes are under 128 bytes
    out.stringField(KeyValueField.key, key);
    writeAnyValue(out, KeyValueField.value, value);
    out.endDelimited(mark, 1);
  }
}

function writeAnyValue(out: ProtoWriter, field: number, value: AttributeValue | null | undefined): void {
  const mark = out.beginDelimited(field, 1);
  switch (typeof value) {
    case 'string':
      out.stringField(AnyValueField.string, value);
      break;
    case 'boolean':
      out.tag(AnyValueField.bool, WireType.varint);
      out.varint(value ? 1 : 0);
      break;
    case 'number':
      if (Number.isSafeInteger(value)) {
        out.tag(AnyValueField.int, WireType.varint);
        out.int64(value);
      } else {
        out.tag(AnyValueField.double, WireType.fixed64);
        out.double(value);
      }
      break;
    case 'object':
      if (Array.isArray(value)) {
        const array = out.beginDelimited(AnyValueField.array);
        for (const item of value as unknown[]) {
          writeAnyValue(out, ArrayValueField.values, item as AttributeValue | null);
        }
        out.endDelimited(array);
      }
      break;
  }
  out.endDelimited(mark, 1);
}

/** Attributes encoded once, as a span's `attributes` field, to be copied into many spans. */
export function spanAttributesBytes(attributes: Attributes): Buffer {
  return encoded((out) => writeAttributes(out, SpanField.attributes, attributes));
}

/** A span's error status: code ERROR and, as message, what went wrong. */
export function writeErrorStatus(out: ProtoWriter, message: string | undefined): void {
  const mark = out.beginDelimited(SpanField.status, 1);
  if (message !== undefined) out.stringField(StatusField.message, message);
  out.tag(StatusField.code, WireType.varint);
  out.varint(StatusCode.error);
  out.endDelimited(mark, 1);
}

/** Bytes written by `write`, in a buffer of their own. */
export function encoded(write: (out: ProtoWriter) => void): Buffer {
  const out = new ProtoWriter(256);
  write(out);
  return Buffer.from(out.bytesWritten);
}
