import type { HrTime } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';

// Protocol Buffers wire format (https://protobuf.dev/programming-guides/encoding/), as much of it as OTLP
// needs: varints, fixed-width integers and length-delimited fields.
export const WireType = { varint: 0, fixed64: 1, delimited: 2, fixed32: 5 } as const;

const timeOrigin = performance.timeOrigin;
const TWO_32 = 0x1_0000_0000;

/**
 * Writes protobuf into one growing buffer, kept from batch to batch (`reset`): a span is a handful of
 * copies of pre-encoded pieces and a few numbers, with nothing left for the garbage collector.
 */
export class ProtoWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialSize = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  reset(): void {
    this.length = 0;
  }

  get size(): number {
    return this.length;
  }

  /** What was written since `reset`, valid until the next one. */
  get bytesWritten(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** A non-negative integer below 2^53. */
  varint(value: number): void {
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest & 0x7f) | 0x80;
      rest = rest < TWO_32 ? rest >>> 7 : Math.floor(rest / 128);
    }
    this.buffer[this.length++] = rest;
  }

  /** A signed integer (int64 field): negatives take ten bytes, two's complement. */
  int64(value: number): void {
    if (value >= 0) return this.varint(value);
    const high = Math.floor(value / TWO_32); // -2^21 ≤ high < 0 for safe integers
    this.reserve(10);
    let low = value - high * TWO_32; // 0 ≤ low < 2^32
    let hi = high >>> 0;
    for (let i = 0; i < 9; i++) {
      this.buffer[this.length++] = (low & 0x7f) | 0x80;
      low = (low >>> 7) | ((hi & 0x7f) << 25);
      hi >>>= 7;
    }
    this.buffer[this.length++] = 1;
  }

  fixed32(value: number): void {
    this.reserve(4);
    this.uint32LE(value);
  }

  double(value: number): void {
    this.reserve(8);
    this.length = this.buffer.writeDoubleLE(value, this.length);
  }

  bytes(piece: Uint8Array): void {
    this.reserve(piece.length);
    this.buffer.set(piece, this.length);
    this.length += piece.length;
  }

  stringField(field: number, value: string): void {
    this.tag(field, WireType.delimited);
    if (value.length < 0x80 && this.asciiWithLength(value)) return;
    const size = Buffer.byteLength(value, 'utf8');
    this.varint(size);
    this.reserve(size);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  /**
   * A string shorter than 128 characters as its one-byte length and bytes, if it is ASCII (a topic, a client
   * id); false, the output left as it was, if it is not. Copied here rather than measured and written by
   * `Buffer.byteLength` and `Buffer.write`, whose calls into C++ took ~0.5 µs together inside a busy broker
   * for a topic of a few bytes, twice per traced message in a fan-in (docs/benchmarks.md, "The floor,
   * measured inside the broker").
   */
  private asciiWithLength(value: string): boolean {
    const n = value.length;
    this.reserve(n + 1);
    const buffer = this.buffer;
    const at = this.length + 1;
    for (let i = 0; i < n; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return false;
      buffer[at + i] = code;
    }
    buffer[at - 1] = n;
    this.length = at + n;
    return true;
  }

  /** An id given in hex (trace, span) as the raw bytes OTLP carries. */
  hexField(field: number, hex: string): void {
    this.tag(field, WireType.delimited);
    const size = hex.length >> 1;
    this.varint(size);
    this.reserve(size);
    this.length += this.buffer.write(hex, this.length, 'hex');
  }

  /** A span id kept as two 32-bit words (see `span-ids`). */
  spanIdField(field: number, high: number, low: number): void {
    this.tag(field, WireType.delimited);
    this.varint(8);
    this.reserve(8);
    this.word(high);
    this.word(low);
  }

  /** A trace id kept as four 32-bit words (see `span-ids`). */
  traceIdField(field: number, w0: number, w1: number, w2: number, w3: number): void {
    this.tag(field, WireType.delimited);
    this.varint(16);
    this.reserve(16);
    this.word(w0);
    this.word(w1);
    this.word(w2);
    this.word(w3);
  }

  private word(value: number): void {
    const buffer = this.buffer;
    const at = this.length;
    buffer[at] = value >>> 24;
    buffer[at + 1] = value >>> 16;
    buffer[at + 2] = value >>> 8;
    buffer[at + 3] = value;
    this.length = at + 4;
  }

  private uint32LE(value: number): void {
    const buffer = this.buffer;
    const at = this.length;
    buffer[at] = value;
    buffer[at + 1] = value >>> 8;
    buffer[at + 2] = value >>> 16;
    buffer[at + 3] = value >>> 24;
    this.length = at + 4;
  }

  /** A `performance.now()` reading as a fixed64 of Unix epoch nanoseconds, exact to the microsecond. */
  unixNanoField(field: number, performanceMs: number): void {
    const micros = Math.round((timeOrigin + performanceMs) * 1000);
    this.microsField(field, micros, 0);
  }

  /** An OpenTelemetry `HrTime` ([seconds, nanoseconds]) as a fixed64 of Unix epoch nanoseconds. */
  hrTimeField(field: number, [seconds, nanos]: HrTime): void {
    // Through microseconds, which a double holds exactly: seconds * 10^9 does not fit in 53 bits.
    const micros = seconds * 1e6 + Math.floor(nanos / 1000);
    this.microsField(field, micros, nanos % 1000);
  }

  /** `micros * 1000 + nanos` as a fixed64, in two 32-bit halves so that every step stays exact. */
  private microsField(field: number, micros: number, nanos: number): void {
    const high = Math.floor(micros / TWO_32);
    const lowNanos = (micros - high * TWO_32) * 1000 + nanos;
    const carry = Math.floor(lowNanos / TWO_32);
    this.tag(field, WireType.fixed64);
    this.reserve(8);
    this.uint32LE(lowNanos - carry * TWO_32);
    this.uint32LE(high * 1000 + carry);
  }

  /**
   * Starts a nested message; `endDelimited` with the returned mark and the same `lengthBytes` writes its
   * length before it. The bytes kept for the length are a guess of its size: 2 cover 128 bytes to 16 KB
   * (a span), 1 less than 128 (an attribute). A wrong guess costs a move of the message's bytes.
   */
  beginDelimited(field: number, lengthBytes = 2): number {
    this.tag(field, WireType.delimited);
    this.reserve(lengthBytes);
    this.length += lengthBytes;
    return this.length;
  }

  endDelimited(mark: number, lengthBytes = 2): void {
    const size = this.length - mark;
    let width = 1;
    for (let rest = size; rest >= 0x80; rest = Math.floor(rest / 128)) width++;
    if (width !== lengthBytes) {
      this.reserve(width - lengthBytes);
      this.buffer.copyWithin(mark - lengthBytes + width, mark, this.length);
      this.length += width - lengthBytes;
    }
    const end = this.length;
    this.length = mark - lengthBytes;
    this.varint(size);
    this.length = end;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
