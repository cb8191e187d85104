import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeTraceExport } from '../../src/otlp/decode';
import { SpanField } from '../../src/otlp/otlp-proto';
import { EncodedScope, resourceField, type SpanBatch } from '../../src/otlp/span-batch';
import { ExportError } from '../../src/otlp/http-transport';
import { SpanBatcher } from '../../src/otlp/span-batcher';

const scope = EncodedScope.of({ name: 'test' });

/** Adds a span numbered by its name, to see which went in which batch. */
function add(batcher: SpanBatcher, n: number): void {
  batcher.add(scope, { encodeOtlp: (out) => out.stringField(SpanField.name, String(n)) });
}

/** The numbers of a batch's spans, read from the request it makes. */
function numbers(batch: SpanBatch): number[] {
  const request = decodeTraceExport(Buffer.concat(batch.request(resourceField({}))));
  return request.resourceSpans[0].scopeSpans[0].spans.map((s) => Number(s.name));
}

/** A send that holds each batch until the test settles it. */
function heldSends() {
  const sent: number[][] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const send = (batch: SpanBatch) => {
    sent.push(numbers(batch));
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { sent, pending, send };
}

const settled = () => new Promise((r) => setImmediate(r));

describe('SpanBatcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('encodes each span as it is added, and sends a full batch on a later turn of the event loop', async () => {
    const { sent, send } = heldSends();
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 3, scheduleDelayMs: 60_000, retryDelaysMs: [] },
      send,
    );
    for (let i = 0; i < 4; i++) add(batcher, i);
    expect(sent).toEqual([]);
    await settled();
    expect(sent).toEqual([[0, 1, 2]]);
  });

  it('keeps one batch in flight, then goes straight on with the next full one', async () => {
    const { sent, pending, send } = heldSends();
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 2, scheduleDelayMs: 60_000, retryDelaysMs: [] },
      send,
    );
    for (let i = 0; i < 5; i++) add(batcher, i);
    await settled();
    expect(sent).toEqual([[0, 1]]);
    pending[0].resolve();
    await settled();
    expect(sent).toEqual([
      [0, 1],
      [2, 3],
    ]);
    pending[1].reject(new Error('collector down'));
    await settled();
    expect(batcher.counts).toEqual({ exported: 2, dropped: 0, failed: 2 });
  });

  it('sends a partial batch once it has waited the schedule delay', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { sent, send } = heldSends();
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 10, scheduleDelayMs: 500, retryDelaysMs: [] },
      send,
    );
    add(batcher, 1);
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await settled();
    expect(sent).toEqual([[1]]);
  });

  it('drops and counts what does not fit in the queue, and says when it is half full', async () => {
    const { sent, pending, send } = heldSends();
    const batcher = new SpanBatcher(
      { maxQueueSize: 4, maxExportBatchSize: 4, scheduleDelayMs: 60_000, retryDelaysMs: [] },
      send,
    );
    for (let i = 0; i < 4; i++) add(batcher, i);
    await settled(); // in flight: 0-3, queue empty
    add(batcher, 4);
    expect(batcher.backlogged).toBe(false);
    add(batcher, 5);
    expect(batcher.backlogged).toBe(true);
    for (let i = 6; i < 10; i++) add(batcher, i);
    expect(batcher.counts.dropped).toBe(2);
    pending[0].resolve();
    await settled();
    expect(sent[1]).toEqual([4, 5, 6, 7]);
  });

  it('flushes everything on shutdown, in batches, and refuses spans after it', async () => {
    const sent: number[][] = [];
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 2, scheduleDelayMs: 60_000, retryDelaysMs: [] },
      async (b) => {
        sent.push(numbers(b));
      },
    );
    for (let i = 0; i < 5; i++) add(batcher, i);
    await batcher.shutdown();
    expect(sent).toEqual([[0, 1], [2, 3], [4]]);
    add(batcher, 9);
    expect(batcher.counts).toEqual({ exported: 5, dropped: 1, failed: 0 });
  });

  it('reuses a batch, and its buffer, once its send has settled', async () => {
    const batches: SpanBatch[] = [];
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 2, scheduleDelayMs: 60_000, retryDelaysMs: [] },
      async (b) => void batches.push(b),
    );
    for (let round = 0; round < 3; round++) {
      add(batcher, round * 2);
      add(batcher, round * 2 + 1);
      await batcher.flush();
    }
    expect(batches).toHaveLength(3);
    expect(batches[2]).toBe(batches[0]); // the open batch and one spare: no new batch per export
  });

  it('retries an export that may succeed later, after its wait, and keeps the spans meanwhile', async () => {
    const attempts: number[][] = [];
    const outcomes = [new ExportError('HTTP 503', true), new ExportError('HTTP 429', true, 5)];
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 2, scheduleDelayMs: 60_000, retryDelaysMs: [20, 20] },
      async (b) => {
        attempts.push(numbers(b));
        const outcome = outcomes.shift();
        if (outcome) throw outcome;
      },
    );
    add(batcher, 0);
    add(batcher, 1);
    add(batcher, 2); // ends while the first batch waits for its retries
    await batcher.flush();
    expect(attempts).toEqual([[0, 1], [0, 1], [0, 1], [2]]);
    expect(batcher.counts).toEqual({ exported: 3, dropped: 0, failed: 0 });
  });

  it('gives up on a failure that will not pass, or after the last retry, and counts the spans failed', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const refusing = (error: Error) =>
      new SpanBatcher(
        { maxQueueSize: 100, maxExportBatchSize: 1, scheduleDelayMs: 60_000, retryDelaysMs: [5, 5] },
        async () => {
          calls++;
          throw error;
        },
        (e) => failures.push(e),
      );
    const badRequest = refusing(new ExportError('HTTP 400', false));
    add(badRequest, 0);
    await badRequest.flush();
    expect([calls, badRequest.counts.failed]).toEqual([1, 1]);

    calls = 0;
    const down = refusing(new ExportError('connect ECONNREFUSED', true));
    add(down, 0);
    await down.flush();
    expect([calls, down.counts.failed]).toEqual([3, 1]); // the first try and two retries
    expect(failures).toHaveLength(2);
  });

  it('stops waiting to retry when shut down', async () => {
    const batcher = new SpanBatcher(
      { maxQueueSize: 100, maxExportBatchSize: 1, scheduleDelayMs: 60_000, retryDelaysMs: [60_000] },
      async () => {
        throw new ExportError('HTTP 503', true);
      },
    );
    add(batcher, 0);
    await settled(); // the first try failed; a minute's wait begins
    const started = performance.now();
    await batcher.shutdown();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(batcher.counts.failed).toBe(1);
  });
});
