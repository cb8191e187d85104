export interface BatchSettings {
  /** Finished spans waiting for export; a span that finds the queue full is dropped and counted. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  /** How long a span waits for its batch to fill before a smaller batch goes. */
  readonly scheduleDelayMs: number;
}

export interface ExportCounts {
  exported: number;
  /** Spans dropped because the queue was full: the exporter was behind. */
  dropped: number;
  /** Spans whose export request failed (refused, timed out, unreachable); they are not retried. */
  failed: number;
}

/**
 * The batching half of an exporter, as OpenTelemetry's BatchSpanProcessor does it, minus its costs on the
 * message path: adding a span is a push and a length check, and all export work (encoding included) runs
 * in a later turn of the event loop. At most one batch is in flight; memory is bounded by the queue, and
 * whatever does not fit is dropped and counted rather than kept or waited for.
 */
export class SpanBatcher<T> {
  readonly counts: ExportCounts = { exported: 0, dropped: 0, failed: 0 };
  private queue: T[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private exportScheduled = false;
  private closed = false;

  constructor(
    private readonly settings: BatchSettings,
    private readonly send: (batch: T[]) => Promise<void>,
  ) {}

  /** Half full or more: a new trace would likely lose spans, so it is better not started. */
  get backlogged(): boolean {
    return this.queue.length * 2 >= this.settings.maxQueueSize;
  }

  add(span: T): void {
    if (this.closed || this.queue.length >= this.settings.maxQueueSize) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.settings.maxExportBatchSize) this.exportSoon();
    else this.timer ??= setTimeout(() => this.onTimer(), this.settings.scheduleDelayMs).unref();
  }

  /** Exports everything queued now, one batch after another. */
  async flush(): Promise<void> {
    while (this.inFlight || this.queue.length > 0) {
      if (this.inFlight) await this.inFlight;
      else this.exportNext();
    }
  }

  /** Exports what is queued and refuses (drops) spans that come later. */
  async shutdown(): Promise<void> {
    this.closed = true;
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

  private exportNext(): void {
    if (this.inFlight || this.queue.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.take();
    this.inFlight = Promise.resolve()
      .then(() => this.send(batch))
      .then(
        () => void (this.counts.exported += batch.length),
        () => void (this.counts.failed += batch.length),
      )
      .then(() => {
        this.inFlight = undefined;
        // Straight on with a full batch: a busy broker's event loop turns every few milliseconds, and
        // waiting for another turn per batch would cap the export rate below what a fan-out produces.
        if (this.queue.length >= this.settings.maxExportBatchSize) this.exportNext();
        else if (this.queue.length > 0 && !this.closed) {
          this.timer ??= setTimeout(() => this.onTimer(), this.settings.scheduleDelayMs).unref();
        }
      });
  }

  private take(): T[] {
    const size = this.settings.maxExportBatchSize;
    const all = this.queue;
    if (all.length <= size) {
      this.queue = [];
      return all;
    }
    this.queue = all.slice(size);
    return all.slice(0, size);
  }
}
