/**
 * Held packets are joined into one buffer up to this size. Node's stream code (and ws's framing) costs
 * more per call than copying a small packet; large payloads are not worth a copy and go out one by one.
 */
const MAX_JOINED_BYTES = 64 * 1024;

/**
 * What the engine writes to a transport while it is corked (a batch, see Broker.beginBatch), held and
 * handed to the socket together at uncork: one write, or one WebSocket frame, for the whole batch.
 */
export class HeldWrites {
  private held: Buffer[] | undefined;
  /** Bytes held, which count as buffered: back-pressure must see a batch that grows past the limit. */
  bytes = 0;

  hold(): void {
    this.held ??= [];
  }

  /** False when nothing is being held: the caller writes `data` itself. */
  add(data: Buffer): boolean {
    if (this.held === undefined) return false;
    this.held.push(data);
    this.bytes += data.length;
    return true;
  }

  /** Stops holding: what was held as one buffer, or packet by packet when too large to join; or nothing. */
  release(): Buffer | Buffer[] | undefined {
    const held = this.held;
    if (held === undefined || held.length === 0) {
      this.held = undefined;
      return undefined;
    }
    const bytes = this.bytes;
    this.held = undefined;
    this.bytes = 0;
    if (held.length === 1) return held[0];
    return bytes <= MAX_JOINED_BYTES ? Buffer.concat(held, bytes) : held;
  }
}
