// Low-level writers for the encoder. Callers size the buffer first, so writes are unchecked.

import type { SliceableBuffer } from './reader';

interface WritableBuffer extends SliceableBuffer {
  utf8Write(value: string, offset: number): number;
}

export const MAX_REMAINING_LENGTH = 268_435_455;

export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value <= MAX_REMAINING_LENGTH) return 4;
  throw new RangeError(`${value} does not fit in a variable byte integer (max ${MAX_REMAINING_LENGTH})`);
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/**
 * Bytes `value` takes in UTF-8, as Buffer.byteLength counts them (a lone surrogate as U+FFFD, 3 bytes).
 * A loop of our own rather than Buffer.byteLength on the PUBLISH path: that one handles every encoding and
 * input type in 1,320 bytes of bytecode, too large for V8's default inlining budget (a call per message) and,
 * under the larger budget the broker once set, a quarter of it (docs/architecture.md, "Decisions"); this one
 * is a few dozen bytes, inlined.
 */
export function utf8Length(value: string): number {
  let bytes = value.length;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else {
      bytes += 2;
      // A surrogate pair is two units and four bytes: its low half adds nothing.
      if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
        const next = value.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) i++;
      }
    }
  }
  return bytes;
}

/** Bytes a length-prefixed UTF-8 string takes on the wire. */
export function stringSize(value: string, what: string): number {
  const length = utf8Length(value);
  if (length > 0xffff) throw new RangeError(`${what} is ${length} bytes; the limit is 65535`);
  return length + 2;
}

export function binarySize(value: Buffer, what: string): number {
  if (value.length > 0xffff) throw new RangeError(`${what} is ${value.length} bytes; the limit is 65535`);
  return value.length + 2;
}

export function writeString(buf: Buffer, pos: number, value: string): number {
  const length = (buf as WritableBuffer).utf8Write(value, pos + 2);
  buf[pos] = length >> 8;
  buf[pos + 1] = length;
  return pos + 2 + length;
}

export function writeBinary(buf: Buffer, pos: number, value: Buffer): number {
  buf[pos] = value.length >> 8;
  buf[pos + 1] = value.length;
  value.copy(buf, pos + 2);
  return pos + 2 + value.length;
}

export function writeU16(buf: Buffer, pos: number, value: number): number {
  buf[pos] = value >> 8;
  buf[pos + 1] = value;
  return pos + 2;
}

export function writeU32(buf: Buffer, pos: number, value: number): number {
  buf.writeUInt32BE(value, pos);
  return pos + 4;
}

/** Allocates a packet with its fixed header written; the body starts at `length - remainingLength`. */
export function allocPacket(b0: number, remainingLength: number): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(remainingLength) + remainingLength);
  buf[0] = b0;
  writeVarint(buf, 1, remainingLength);
  return buf;
}
