import {
  EventField,
  LinkField,
  RequestField,
  ResourceField,
  ResourceSpansField,
  ScopeField,
  ScopeSpansField,
  SpanField,
  StatusField,
} from './otlp-proto';
import { WireType } from './proto-writer';

// Reads an OTLP/protobuf trace export back into the shape of its OTLP/JSON form (ids in hex, times as
// decimal strings): for tests, and for tools that want to see what the broker sends. Not on any hot path.

export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | Record<string, never>;

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  flags?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  events: { timeUnixNano: string; name: string; attributes: KeyValue[] }[];
  links: { traceId: string; spanId: string; traceState?: string; flags?: number; attributes: KeyValue[] }[];
  status: { code?: number; message?: string };
}

export interface DecodedTraceExport {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: DecodedSpan[] }[];
  }[];
}

/** Decodes an `ExportTraceServiceRequest`; throws on bytes that are not one. */
export function decodeTraceExport(bytes: Uint8Array): DecodedTraceExport {
  const out: DecodedTraceExport = { resourceSpans: [] };
  for (const f of fields(bytes)) {
    if (f.field === RequestField.resourceSpans) out.resourceSpans.push(resourceSpans(f.bytes()));
  }
  return out;
}

function resourceSpans(bytes: Uint8Array): DecodedTraceExport['resourceSpans'][number] {
  const out: DecodedTraceExport['resourceSpans'][number] = { resource: { attributes: [] }, scopeSpans: [] };
  for (const f of fields(bytes)) {
    if (f.field === ResourceSpansField.resource) {
      for (const r of fields(f.bytes())) {
        if (r.field === ResourceField.attributes) out.resource.attributes.push(keyValue(r.bytes()));
      }
    } else if (f.field === ResourceSpansField.scopeSpans) {
      const scopeSpans: DecodedTraceExport['resourceSpans'][number]['scopeSpans'][number] = {
        scope: { name: '' },
        spans: [],
      };
      for (const s of fields(f.bytes())) {
        if (s.field === ScopeSpansField.scope) {
          for (const sc of fields(s.bytes())) {
            if (sc.field === ScopeField.name) scopeSpans.scope.name = sc.string();
            if (sc.field === ScopeField.version) scopeSpans.scope.version = sc.string();
          }
        } else if (s.field === ScopeSpansField.spans) scopeSpans.spans.push(span(s.bytes()));
      }
      out.scopeSpans.push(scopeSpans);
    }
  }
  return out;
}

function span(bytes: Uint8Array): DecodedSpan {
  const out: DecodedSpan = {
    traceId: '',
    spanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    events: [],
    links: [],
    status: {},
  };
  for (const f of fields(bytes)) {
    switch (f.field) {
      case SpanField.traceId:
        out.traceId = f.hex();
        break;
      case SpanField.spanId:
        out.spanId = f.hex();
        break;
      case SpanField.traceState:
        out.traceState = f.string();
        break;
      case SpanField.parentSpanId:
        if (f.bytes().length > 0) out.parentSpanId = f.hex();
        break;
      case SpanField.name:
        out.name = f.string();
        break;
      case SpanField.kind:
        out.kind = Number(f.varint());
        break;
      case SpanField.startTime:
        out.startTimeUnixNano = f.fixed64().toString();
        break;
      case SpanField.endTime:
        out.endTimeUnixNano = f.fixed64().toString();
        break;
      case SpanField.attributes:
        out.attributes.push(keyValue(f.bytes()));
        break;
      case SpanField.droppedAttributesCount:
        out.droppedAttributesCount = Number(f.varint());
        break;
      case SpanField.events:
        out.events.push(event(f.bytes()));
        break;
      case SpanField.links:
        out.links.push(link(f.bytes()));
        break;
      case SpanField.status:
        for (const s of fields(f.bytes())) {
          if (s.field === StatusField.message) out.status.message = s.string();
          if (s.field === StatusField.code) out.status.code = Number(s.varint());
        }
        break;
      case SpanField.flags:
        out.flags = f.fixed32();
        break;
    }
  }
  return out;
}

function event(bytes: Uint8Array): DecodedSpan['events'][number] {
  const out: DecodedSpan['events'][number] = { timeUnixNano: '0', name: '', attributes: [] };
  for (const f of fields(bytes)) {
    if (f.field === EventField.time) out.timeUnixNano = f.fixed64().toString();
    if (f.field === EventField.name) out.name = f.string();
    if (f.field === EventField.attributes) out.attributes.push(keyValue(f.bytes()));
  }
  return out;
}

function link(bytes: Uint8Array): DecodedSpan['links'][number] {
  const out: DecodedSpan['links'][number] = { traceId: '', spanId: '', attributes: [] };
  for (const f of fields(bytes)) {
    if (f.field === LinkField.traceId) out.traceId = f.hex();
    if (f.field === LinkField.spanId) out.spanId = f.hex();
    if (f.field === LinkField.traceState) out.traceState = f.string();
    if (f.field === LinkField.attributes) out.attributes.push(keyValue(f.bytes()));
    if (f.field === LinkField.flags) out.flags = f.fixed32();
  }
  return out;
}

function keyValue(bytes: Uint8Array): KeyValue {
  const out: KeyValue = { key: '', value: {} };
  for (const f of fields(bytes)) {
    if (f.field === 1) out.key = f.string();
    if (f.field === 2) out.value = anyValue(f.bytes());
  }
  return out;
}

function anyValue(bytes: Uint8Array): AnyValue {
  let out: AnyValue = {};
  for (const f of fields(bytes)) {
    if (f.field === 1) out = { stringValue: f.string() };
    if (f.field === 2) out = { boolValue: f.varint() !== 0n };
    if (f.field === 3) out = { intValue: Number(BigInt.asIntN(64, f.varint())) };
    if (f.field === 4) out = { doubleValue: Buffer.from(f.raw).readDoubleLE(0) };
    if (f.field === 5) {
      const values: AnyValue[] = [];
      for (const v of fields(f.bytes())) if (v.field === 1) values.push(anyValue(v.bytes()));
      out = { arrayValue: { values } };
    }
  }
  return out;
}

/** One field as read: its number and wire type, and its raw bytes (for a varint, the value). */
class Field {
  constructor(
    readonly field: number,
    private readonly wireType: number,
    readonly raw: Uint8Array,
    private readonly value: bigint,
  ) {}

  private expect(wireType: number): void {
    if (this.wireType !== wireType) {
      throw new Error(`field ${this.field}: wire type ${this.wireType}, expected ${wireType}`);
    }
  }

  varint(): bigint {
    this.expect(WireType.varint);
    return this.value;
  }

  bytes(): Uint8Array {
    this.expect(WireType.delimited);
    return this.raw;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  hex(): string {
    return Buffer.from(this.bytes()).toString('hex');
  }

  fixed64(): bigint {
    this.expect(WireType.fixed64);
    return Buffer.from(this.raw).readBigUInt64LE(0);
  }

  fixed32(): number {
    this.expect(WireType.fixed32);
    return Buffer.from(this.raw).readUInt32LE(0);
  }
}

function* fields(bytes: Uint8Array): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= bytes.length) throw new Error('protobuf: truncated varint');
      const b = bytes[at++];
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
    }
  };
  const take = (size: number): Uint8Array => {
    if (at + size > bytes.length) throw new Error('protobuf: truncated field');
    at += size;
    return bytes.subarray(at - size, at);
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const wireType = tag & 7;
    const field = tag >>> 3;
    switch (wireType) {
      case WireType.varint:
        yield new Field(field, wireType, new Uint8Array(0), varint());
        break;
      case WireType.fixed64:
        yield new Field(field, wireType, take(8), 0n);
        break;
      case WireType.delimited:
        yield new Field(field, wireType, take(Number(varint())), 0n);
        break;
      case WireType.fixed32:
        yield new Field(field, wireType, take(4), 0n);
        break;
      default:
        throw new Error(`protobuf: unsupported wire type ${wireType}`);
    }
  }
}
