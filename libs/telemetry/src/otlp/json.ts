import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { JsonWriter } from './json-writer';

// OTLP/HTTP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): ids in hex, 64-bit
// integers as decimal strings, enums as numbers. All text is kept ASCII (see `jsonString`), so that it goes
// into the request buffer as Latin-1, a plain copy.

export interface OtlpScope {
  readonly name: string;
  readonly version?: string;
}

/** A finished span that writes itself as one OTLP/JSON `Span` object. */
export interface ExportableSpan {
  readonly scope: OtlpScope;
  writeOtlpJson(out: JsonWriter): void;
}

export const SpanKindCode = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/**
 * OTLP span flags of a sampled span: bits 0-7 are the W3C trace flags (sampled = 1), bit 8 says that
 * whether the parent is remote is known, bit 9 that it is.
 */
export function sampledSpanFlags(remoteParent: boolean): number {
  return remoteParent ? 0x301 : 0x101;
}

export const STATUS_UNSET = '{}';

export function errorStatusJson(message: string | undefined): string {
  return message === undefined ? '{"code":2}' : `{"code":2,"message":${jsonString(message)}}`;
}

// Printable ASCII other than `"` and `\`: such a string is its own JSON text between quotes. Topics and
// client ids nearly always are; this test is twice as fast as JSON.stringify.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NON_ASCII = /[\u0080-\uffff]/g;

/** A JSON string literal in ASCII only: other characters as \u escapes (lone surrogates included). */
export function jsonString(value: string): string {
  if (PLAIN.test(value)) return `"${value}"`;
  return JSON.stringify(value).replace(
    NON_ASCII,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Attributes as the comma-separated members of an OTLP `KeyValue` list. */
export function attributesJson(attributes: Attributes): string {
  let out = '';
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    if (out !== '') out += ',';
    out += `{"key":${jsonString(key)},"value":${anyValueJson(value)}}`;
  }
  return out;
}

/** `{"key":…,"value":{"<type>":`: an attribute written piece by piece, its value and `}}` to follow. */
export function attributePrefixJson(key: string, type: 'stringValue' | 'intValue'): string {
  return `{"key":${jsonString(key)},"value":{"${type}":`;
}

function anyValueJson(value: AttributeValue | null | undefined): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${jsonString(value)}}`;
    case 'boolean':
      return `{"boolValue":${value}}`;
    case 'number':
      if (Number.isSafeInteger(value)) return `{"intValue":${value}}`;
      // JSON has no NaN or Infinity; the protobuf JSON mapping spells them as strings.
      return `{"doubleValue":${Number.isFinite(value) ? value : `"${value}"`}}`;
    case 'object':
      if (Array.isArray(value)) return `{"arrayValue":{"values":[${value.map(anyValueJson).join(',')}]}}`;
  }
  return '{}';
}

/** The start of a span: `{"traceId":…,"parentSpanId":…,"traceState":…`, shared by siblings. */
export function spanParentageJson(
  traceId: string,
  parentSpanId: string | undefined,
  traceState: string | undefined,
): string {
  const parent = parentSpanId === undefined ? '' : `,"parentSpanId":"${parentSpanId}"`;
  const state = traceState === undefined ? '' : `,"traceState":${jsonString(traceState)}`;
  return `{"traceId":"${traceId}"${parent}${state}`;
}

/** What follows `spanParentageJson`: `,"name":…,"kind":…,"flags":…,"spanId":"`, up to the id itself. */
export function spanNameJson(name: string, kind: number, flags: number): string {
  return `,"name":${jsonString(name)},"kind":${kind},"flags":${flags},"spanId":"`;
}

export function unixNanoOfHrTime([seconds, nanos]: HrTime): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}
