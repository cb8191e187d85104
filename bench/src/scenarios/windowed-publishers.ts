import { performance } from 'node:perf_hooks';
import type { PublishTemplate } from '../packets';
import type { RawClient } from '../raw-client';
import { coalesced } from './throughput';

export interface WindowOptions {
  /** Unacknowledged messages per publisher. */
  window: number;
  /** Messages sent but not yet through to the subscriber, so a run measures flow, not a growing queue. */
  endToEnd: number;
  messages: number;
  maxSeconds: number;
  /** How many messages the subscriber has finished with. */
  through: () => number;
}

/**
 * QoS 1/2 publishers that each keep up to `window` messages unacknowledged, topped up with one write of
 * fresh packet ids, until `messages` were sent or `maxSeconds` passed.
 */
export class WindowedPublishers {
  sent = 0;
  /** Acknowledged to the publishers (PUBACK, or PUBCOMP). */
  acknowledged = 0;
  private target: number;
  private startAt = 0;
  private readonly inflight: number[];
  private readonly nextId: number[];
  private first = 0;

  constructor(
    private readonly publishers: RawClient[],
    private readonly templates: PublishTemplate[],
    private readonly options: WindowOptions,
  ) {
    this.target = options.messages;
    this.inflight = new Array<number>(publishers.length).fill(0);
    this.nextId = new Array<number>(publishers.length).fill(0);
  }

  /** Every publisher topped up, at most once per event-loop turn. */
  readonly fillAll = coalesced(() => {
    // Starts with a different publisher each time so none is favoured when the end-to-end cap binds.
    const n = this.publishers.length;
    this.first = (this.first + 1) % n;
    for (let k = 0; k < n; k++) this.fill((this.first + k) % n);
  });

  start(): void {
    this.startAt = performance.now();
    for (let i = 0; i < this.publishers.length; i++) this.fill(i);
  }

  /** Publisher `i` got a message acknowledged: its window has room again. */
  acked(i: number): void {
    this.inflight[i]--;
    this.acknowledged++;
    this.fill(i);
  }

  /** All sent and acknowledged to the publishers. */
  get done(): boolean {
    return this.sent === this.target && this.acknowledged >= this.sent;
  }

  private fill(i: number): void {
    const { window, endToEnd, maxSeconds, through } = this.options;
    if (performance.now() - this.startAt > maxSeconds * 1000) this.target = this.sent;
    const count = Math.min(
      window - this.inflight[i],
      this.target - this.sent,
      endToEnd - (this.sent - through()),
    );
    if (count <= 0) return;
    const template = this.templates[i];
    const size = template.bytes.length;
    const out = Buffer.allocUnsafe(count * size);
    for (let k = 0; k < count; k++) {
      template.bytes.copy(out, k * size);
      this.nextId[i] = (this.nextId[i] % 65535) + 1;
      out.writeUInt16BE(this.nextId[i], k * size + template.idOffset);
    }
    this.publishers[i].write(out);
    this.inflight[i] += count;
    this.sent += count;
  }
}
