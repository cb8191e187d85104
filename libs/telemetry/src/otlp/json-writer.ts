import { performance } from 'node:perf_hooks';

/** ASCII text as bytes, for the pieces of span JSON that are written many times. */
export function asciiBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

const timeOrigin = performance.timeOrigin;
const ZERO = 0x30;

/** Where a piece of text went in the current body, so that other spans of the batch can copy it. */
export class WrittenText {
  generation = -1;
  start = 0;
  end = 0;
}

/**
 * Writes JSON text straight into one growing buffer, kept from batch to batch: a span is a handful of
 * copies of pre-encoded pieces and a few numbers, with no strings built and none left for the garbage
 * collector. Text given to it must be ASCII (`jsonString` makes it so), one byte per character.
 */
export class JsonWriter {
  // Numbers bodies across all writers, so that a `WrittenText` can never take another writer's body for
  // the one it was written in.
  private static bodies = 0;
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;
  private generation = ++JsonWriter.bodies;

  /** Starts a new body; the previous one (see `body`) is overwritten. */
  reset(): void {
    this.length = 0;
    this.generation = ++JsonWriter.bodies;
  }

  /** The text written since `reset`, valid until the next `reset`. */
  get body(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  bytes(piece: Uint8Array): void {
    this.reserve(piece.length);
    this.buffer.set(piece, this.length);
    this.length += piece.length;
  }

  text(ascii: string): void {
    this.reserve(ascii.length);
    this.length += this.buffer.write(ascii, this.length, 'latin1');
  }

  /**
   * Copies text that several spans of a batch share from its first place in this body; false if it has
   * none yet: then write it between `startPiece` and `endPiece`.
   */
  repeat(piece: WrittenText): boolean {
    if (piece.generation !== this.generation) return false;
    const size = piece.end - piece.start;
    this.reserve(size);
    this.buffer.copyWithin(this.length, piece.start, piece.end);
    this.length += size;
    return true;
  }

  startPiece(piece: WrittenText): void {
    piece.generation = this.generation;
    piece.start = this.length;
  }

  endPiece(piece: WrittenText): void {
    piece.end = this.length;
  }

  /** A whole number from 0 to 2^31 - 1. */
  integer(value: number): void {
    let width = 1;
    for (let rest = value; rest >= 10; rest = (rest / 10) | 0) width++;
    this.reserve(width);
    this.digits(value, width);
  }

  /** A `performance.now()` reading as Unix epoch nanoseconds: exact to the microsecond, then 000. */
  unixNano(performanceMs: number): void {
    const micros = Math.round((timeOrigin + performanceMs) * 1000);
    // Split in two so that the digit loops work on small integers: above 2^31 JavaScript's arithmetic on
    // doubles is several times slower.
    const high = Math.floor(micros / 1e8);
    this.integer(high);
    this.reserve(11);
    this.digits(micros - high * 1e8, 8);
    this.buffer[this.length++] = ZERO;
    this.buffer[this.length++] = ZERO;
    this.buffer[this.length++] = ZERO;
  }

  /** `value` (below 2^31) in exactly `width` digits, zero-padded; space must be reserved. */
  private digits(value: number, width: number): void {
    let rest = value | 0;
    for (let at = this.length + width - 1; at >= this.length; at--) {
      const next = (rest / 10) | 0;
      this.buffer[at] = ZERO + rest - next * 10;
      rest = next;
    }
    this.length += width;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
