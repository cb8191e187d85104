import type { Socket } from 'node:net';

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

  /**
   * Stops holding and writes what was held: joined in one `send`, or packet by packet through the socket's
   * own cork when too large to be worth a copy.
   */
  release(socket: Socket, send: (data: Buffer) => void): void {
    const held = this.held;
    const bytes = this.bytes;
    this.held = undefined;
    this.bytes = 0;
    if (held === undefined || held.length === 0) return;
    if (held.length === 1) send(held[0]);
    else if (bytes <= MAX_JOINED_BYTES) send(Buffer.concat(held, bytes));
    else {
      socket.cork();
      for (const data of held) send(data);
      socket.uncork();
    }
  }
}
