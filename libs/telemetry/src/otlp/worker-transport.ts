import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ExportError, type HttpTransportSettings } from './http-transport';

/** Sends OTLP bodies. `send` settles once the chunks may be reused. */
export interface SpanTransport {
  send(chunks: readonly Buffer[]): Promise<void>;
  close?(): Promise<void>;
}

/** A body for the worker, and its answer: nothing on success, or the export's error. */
export interface ExportRequest {
  id: number;
  body: Uint8Array;
}
export interface ExportAnswer {
  id: number;
  error?: { message: string; retryable: boolean; retryAfterMs?: number };
}

/**
 * POSTs the batches from a worker thread. Node's stream and socket code is shared by every socket of an
 * isolate; the HTTP client's sockets and string chunks, met on the thread that also writes to MQTT
 * clients, made V8 recompile that code for more shapes and the broker's writes slower (fan-in at 1%
 * sampling: `writeOrBuffer`, `_write` and `writevGeneric` deoptimized at the first export; see
 * docs/benchmarks.md). The worker's isolate has code of its own. A body is copied once into memory
 * that moves to the worker, so the batch's buffers are free again as soon as `send` returns.
 */
export class WorkerHttpTransport implements SpanTransport {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 0;

  constructor(
    private readonly settings: HttpTransportSettings,
    private readonly script = join(__dirname, 'export-worker.js'),
  ) {}

  send(chunks: readonly Buffer[]): Promise<void> {
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    const body = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: ExportRequest = { id, body };
      this.started().postMessage(request, [body.buffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const { url, headers, timeoutMs, compression } = this.settings;
    const worker = new Worker(this.script, { workerData: { url, headers, timeoutMs, compression } });
    // Spans must never keep the broker alive; shutdown flushes and closes explicitly.
    worker.unref();
    worker.on('message', (answer: ExportAnswer) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error) {
        const { message, retryable, retryAfterMs } = answer.error;
        waiting?.reject(new ExportError(message, retryable, retryAfterMs));
      } else waiting?.resolve();
    });
    // A worker that dies takes its requests with it: they fail as retryable, and the next send starts a
    // new one.
    const lost = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const { reject } of this.pending.values()) reject(new ExportError(reason, true));
      this.pending.clear();
    };
    worker.on('error', (err) => lost(`OTLP export worker failed: ${err.message}`));
    worker.on('exit', (code) => lost(`OTLP export worker exited with code ${code}`));
    this.worker = worker;
    return worker;
  }
}
