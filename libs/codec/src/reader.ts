import { isUtf8 } from 'node:buffer';
import { DecodeError, MALFORMED } from './errors';
import type { ProtocolVersion } from './packets';

/** Node's unchecked slice methods: `toString` would re-validate arguments we already checked. */
export interface SliceableBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const EMPTY = Buffer.alloc(0);

/**
 * A bounds-checked cursor over one packet's variable header and payload. The decoder owns one and
 * re-aims it at every packet, so reading fields allocates nothing but the values themselves.
 * `what` arguments name the field for error messages; callers pass string constants.
 */
export class Reader {
  buf: Buffer = EMPTY;
  pos = 0;
  /** End of the region being read: the packet, or the property block while reading properties. */
  end = 0;
  /** Whether `end` is the property block's end rather than the packet's, for error messages. */
  inProperties = false;
  version: ProtocolVersion = 4;

  reset(buf: Buffer, pos: number, end: number, version: ProtocolVersion): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.inProperties = false;
    this.version = version;
  }

  fail(reasonCode: number, message: string): DecodeError {
    return new DecodeError(reasonCode, message, this.version);
  }

  truncated(what: string): DecodeError {
    const region = this.inProperties ? 'the property block' : 'the packet (remaining length too short)';
    return this.fail(MALFORMED, `${what} runs past the end of ${region}`);
  }

  u8(what: string): number {
    if (this.pos >= this.end) throw this.truncated(what);
    return this.buf[this.pos++];
  }

  u16(what: string): number {
    const pos = this.pos;
    if (pos + 2 > this.end) throw this.truncated(what);
    this.pos = pos + 2;
    return (this.buf[pos] << 8) | this.buf[pos + 1];
  }

  u32(what: string): number {
    const pos = this.pos;
    if (pos + 4 > this.end) throw this.truncated(what);
    this.pos = pos + 4;
    return this.buf.readUInt32BE(pos);
  }

  /** Variable byte integer (spec 1.5.5), at most 4 bytes. */
  varint(what: string): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * mul;
      if (b < 0x80) return value;
      mul *= 0x80;
    }
    throw this.fail(MALFORMED, `${what} is a variable byte integer longer than 4 bytes`);
  }

  /** Length-prefixed UTF-8 string; must be well-formed and free of U+0000 (spec 1.5.4). */
  utf8(what: string): string {
    const start = this.pos + 2;
    if (start > this.end) throw this.truncated(what);
    const buf = this.buf;
    const end = start + ((buf[start - 2] << 8) | buf[start - 1]);
    if (end > this.end) throw this.truncated(what);
    // U+0000 can only appear as a 0x00 byte in valid UTF-8, so a byte scan finds it; the same pass
    // tells whether the string is pure ASCII, which needs no UTF-8 validation at all.
    let bits = 0;
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c === 0) throw this.fail(MALFORMED, `${what} contains the null character U+0000`);
      bits |= c;
    }
    this.pos = end;
    if (bits < 0x80) return (buf as SliceableBuffer).latin1Slice(start, end);
    if (!isUtf8(buf.subarray(start, end))) throw this.fail(MALFORMED, `${what} is not valid UTF-8`);
    return (buf as SliceableBuffer).utf8Slice(start, end);
  }

  /** Length-prefixed binary data, as a view into the packet bytes. */
  binary(what: string): Buffer {
    const start = this.pos + 2;
    if (start > this.end) throw this.truncated(what);
    const end = start + ((this.buf[start - 2] << 8) | this.buf[start - 1]);
    if (end > this.end) throw this.truncated(what);
    this.pos = end;
    return this.buf.subarray(start, end);
  }
}
