import { DecodeError, MALFORMED, TOO_LARGE } from './errors';
import { decodePacket } from './decode-packets';
import { PacketType, type Packet, type ProtocolVersion } from './packets';
import { Reader } from './reader';

export interface DecoderOptions {
  /** Largest whole packet (fixed header included) accepted; anything bigger fails with 0x95. */
  maxPacketSize: number;
}

const EMPTY = Buffer.alloc(0);
/** Type byte plus the longest remaining-length encoding. */
const MAX_FIXED_HEADER = 5;
/**
 * Partial packets up to this size get their whole buffer at once; bigger ones grow it as bytes arrive,
 * so a peer announcing a huge packet cannot make us reserve memory it never sends.
 */
const PREALLOCATE_LIMIT = 64 * 1024;

/**
 * Streaming MQTT decoder: `push` each chunk read from the socket, then call `next` until it returns
 * null. Packets are parsed in place from the pushed chunk; binary fields (payload, password, ...) are
 * views into it. Only the unfinished tail of a chunk is copied, into a buffer of its own that later
 * chunks fill, so earlier views are never overwritten.
 */
export class PacketDecoder {
  /** Version used to decode packets; set from each CONNECT, so the rest of a chunk follows it. */
  protocolVersion: ProtocolVersion = 4;

  private readonly maxPacketSize: number;
  private readonly reader = new Reader();
  /** The chunk being parsed, and the unread part of it. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  /** An unfinished packet carried between chunks: its bytes so far and, once known, its size. */
  private partial: Buffer | null = null;
  private partialLength = 0;
  private partialSize = -1;
  private partialHeaderSize = 0;
  /** Fixed header length found by the last `readHeader` call. */
  private headerSize = 0;

  constructor(options: DecoderOptions) {
    this.maxPacketSize = options.maxPacketSize;
  }

  /** Bytes received but not yet returned as packets. */
  get pendingBytes(): number {
    return this.partialLength + this.end - this.pos;
  }

  push(chunk: Buffer): void {
    if (this.pos < this.end) {
      // The caller pushed again before draining; rare, so a plain concat keeps the common path simple.
      this.buf = Buffer.concat([this.buf.subarray(this.pos, this.end), chunk]);
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    this.end = this.buf.length;
  }

  /** The next complete packet, or null when more bytes are needed. Throws DecodeError. */
  next(): Packet | null {
    if (this.partial !== null) return this.nextFromPartial();
    const buf = this.buf;
    const pos = this.pos;
    const available = this.end - pos;
    if (available === 0) return this.drained();
    const size = this.readHeader(buf, pos, available);
    if (size < 0 || size > available) {
      this.keepTail(size);
      return null;
    }
    this.pos = pos + size;
    return this.decode(buf, pos, size, this.headerSize);
  }

  private nextFromPartial(): Packet | null {
    let partial = this.partial as Buffer;
    if (this.partialSize < 0) {
      // Still assembling the fixed header in the small scratch buffer.
      const take = Math.min(MAX_FIXED_HEADER - this.partialLength, this.end - this.pos);
      this.buf.copy(partial, this.partialLength, this.pos, this.pos + take);
      const size = this.readHeader(partial, 0, this.partialLength + take);
      if (size < 0) {
        this.partialLength += take;
        return this.drained();
      }
      const whole = allocPartial(size, this.headerSize);
      partial.copy(whole, 0, 0, this.headerSize);
      this.pos += this.headerSize - this.partialLength;
      this.partial = partial = whole;
      this.partialLength = this.partialHeaderSize = this.headerSize;
      this.partialSize = size;
    }
    const take = Math.min(this.partialSize - this.partialLength, this.end - this.pos);
    if (this.partialLength + take > partial.length) partial = this.growPartial(this.partialLength + take);
    this.buf.copy(partial, this.partialLength, this.pos, this.pos + take);
    this.partialLength += take;
    this.pos += take;
    if (this.partialLength < this.partialSize) return this.drained();
    this.partial = null;
    this.partialLength = 0;
    return this.decode(partial, 0, this.partialSize, this.partialHeaderSize);
  }

  /** Doubles the partial buffer (at least to `needed`, at most to the packet size), keeping its bytes. */
  private growPartial(needed: number): Buffer {
    const old = this.partial as Buffer;
    const grown = Buffer.allocUnsafe(Math.min(this.partialSize, Math.max(needed, old.length * 2)));
    old.copy(grown, 0, 0, this.partialLength);
    this.partial = grown;
    return grown;
  }

  /** Lets go of a chunk whose every byte is consumed or copied, so an idle connection holds none. */
  private drained(): null {
    this.buf = EMPTY;
    this.pos = this.end = 0;
    this.reader.buf = EMPTY;
    return null;
  }

  /**
   * Parses the fixed header at `pos`. Returns the whole packet's size, or -1 when the header itself is
   * incomplete. Throws as soon as the size is known to exceed the limit, before its bytes arrive.
   */
  private readHeader(buf: Buffer, pos: number, available: number): number {
    if (available < 2) return -1;
    let length = buf[pos + 1];
    let i = 2;
    if (length > 0x7f) {
      length &= 0x7f;
      let mul = 0x80;
      for (;;) {
        if (i === MAX_FIXED_HEADER) {
          throw new DecodeError(MALFORMED, 'remaining length is longer than 4 bytes', this.protocolVersion);
        }
        if (i >= available) return -1;
        const b = buf[pos + i++];
        length += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 0x80;
      }
    }
    this.headerSize = i;
    const size = i + length;
    if (size > this.maxPacketSize) {
      throw new DecodeError(
        TOO_LARGE,
        `packet of ${size} bytes exceeds the maximum packet size of ${this.maxPacketSize}`,
        this.protocolVersion,
      );
    }
    return size;
  }

  /** Moves the unfinished rest of the chunk into a buffer of its own, so the chunk can be released. */
  private keepTail(size: number): void {
    const tail = this.end - this.pos;
    const partial = size < 0 ? Buffer.allocUnsafe(MAX_FIXED_HEADER) : allocPartial(size, tail);
    this.buf.copy(partial, 0, this.pos, this.end);
    this.partial = partial;
    this.partialLength = tail;
    this.partialSize = size;
    this.partialHeaderSize = this.headerSize;
    this.drained();
  }

  private decode(buf: Buffer, start: number, size: number, headerSize: number): Packet {
    const reader = this.reader;
    reader.reset(buf, start + headerSize, start + size, this.protocolVersion);
    const packet = decodePacket(reader, buf[start]);
    if (packet.type === PacketType.CONNECT) this.protocolVersion = packet.protocolVersion;
    return packet;
  }
}

/** Buffer for a partial packet of `size` bytes of which `have` are already known. */
function allocPartial(size: number, have: number): Buffer {
  return Buffer.allocUnsafe(size <= PREALLOCATE_LIMIT ? size : Math.max(have, PREALLOCATE_LIMIT));
}
