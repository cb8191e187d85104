import { ExportError } from './http-transport';
import { SpanBatch, type EncodableSpan, type EncodedScope } from './span-batch';

export interface BatchSettings {
  /** Finished spans waiting for export; a span that finds the queue full is dropped and counted. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  /** How long a span waits for its batch to fill before a smaller batch goes. */
  readonly scheduleDelayMs: number;
  /**
   * The waits before each retry of an export that may succeed later (see `ExportError`); as many retries
   * as waits. A server's Retry-After replaces the wait, up to `MAX_RETRY_WAIT_MS`.
   */
  readonly retryDelaysMs: readonly number[];
}

const MAX_RETRY_WAIT_MS = 30_000;

export interface ExportCounts {
  exported: number;
  /** Spans dropped because the queue was full: the exporter was behind. */
  dropped: number;
  /** Spans whose export failed for good: refused, or still failing after the retries. */
  failed: number;
}

/**
 * The batching half of an exporter, as OpenTelemetry's BatchSpanProcessor does it, minus its costs on the
 * message path: a span is encoded into the open batch as it ends, and nothing of it is kept but bytes;
 * sending runs in a later turn of the event loop. At most one batch is in flight; memory is bounded by
 * the queue (a few batch buffers, reused), and whatever does not fit is dropped and counted.
 */
export class SpanBatcher {
  readonly counts: ExportCounts = { exported: 0, dropped: 0, failed: 0 };
  private open = new SpanBatch();
  /** Full batches waiting for the one in flight. */
  private readonly full: SpanBatch[] = [];
  private readonly spare: SpanBatch[] = [];
  /** Spans in `open` and `full`. */
  private queued = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Ends the wait before a retry at once (shutdown). */
  private endRetryWait: (() => void) | undefined;
  private exportScheduled = false;
  private closed = false;

  constructor(
    private readonly settings: BatchSettings,
    /** Sends a batch; the batch is reused once the promise settles. */
    private readonly send: (batch: SpanBatch) => Promise<void>,
    private readonly onFailure: (error: unknown, spans: number) => void = () => undefined,
  ) {}

  /** Half full or more: a new trace would likely lose spans, so it is better not started. */
  get backlogged(): boolean {
    return this.queued * 2 >= this.settings.maxQueueSize;
  }

  add(scope: EncodedScope, span: EncodableSpan): void {
    if (this.closed || this.queued >= this.settings.maxQueueSize) {
      this.counts.dropped++;
      return;
    }
    this.queued++;
    this.open.add(scope, span);
    if (this.open.spans >= this.settings.maxExportBatchSize) {
      this.seal();
      this.exportSoon();
    } else this.timer ??= setTimeout(() => this.onTimer(), this.settings.scheduleDelayMs).unref();
  }

  /** Exports everything queued now, one batch after another. */
  async flush(): Promise<void> {
    while (this.inFlight || this.queued > 0) {
      if (this.inFlight) await this.inFlight;
      else this.exportNext();
    }
  }

  /** Exports what is queued and refuses (drops) spans that come later. */
  async shutdown(): Promise<void> {
    this.closed = true;
    this.endRetryWait?.();
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.exportSoon();
  }

  private exportSoon(): void {
    if (this.exportScheduled || this.inFlight) return;
    this.exportScheduled = true;
    setImmediate(() => {
      this.exportScheduled = false;
      this.exportNext();
    });
  }

  private seal(): void {
    this.full.push(this.open);
    this.open = this.spare.pop() ?? new SpanBatch();
  }

  private exportNext(): void {
    if (this.inFlight || this.queued === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.full.length === 0) this.seal();
    const batch = this.full.shift()!;
    const spans = batch.spans;
    this.queued -= spans;
    this.inFlight = Promise.resolve()
      .then(() => this.sendWithRetries(batch))
      .then(
        () => void (this.counts.exported += spans),
        (error: unknown) => {
          this.counts.failed += spans;
          this.onFailure(error, spans);
        },
      )
      .then(() => {
        batch.reset();
        this.spare.push(batch);
        this.inFlight = undefined;
        // Straight on with a full batch: a busy broker's event loop turns every few milliseconds, and
        // waiting for another turn per batch would cap the export rate below what a fan-out produces.
        if (this.full.length > 0) this.exportNext();
        else if (this.open.spans > 0 && !this.closed) {
          this.timer ??= setTimeout(() => this.onTimer(), this.settings.scheduleDelayMs).unref();
        }
      });
  }

  /**
   * Sends a batch, again after a wait while the failure is one that may pass (a collector restarting, or
   * asking to slow down): the batch keeps its place, and spans that end meanwhile queue up behind it.
   */
  private async sendWithRetries(batch: SpanBatch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(batch);
      } catch (error) {
        const delays = this.settings.retryDelaysMs;
        if (this.closed || !(error instanceof ExportError) || !error.retryable || attempt >= delays.length) {
          throw error;
        }
        await this.wait(Math.min(error.retryAfterMs ?? delays[attempt], MAX_RETRY_WAIT_MS));
      }
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.endRetryWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms).unref();
      this.endRetryWait = done;
    });
  }
}
