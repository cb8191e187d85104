import { parentPort, workerData } from 'node:worker_threads';
import { ExportError, OtlpHttpTransport, type HttpTransportSettings } from './http-transport';
import type { ExportAnswer, ExportRequest } from './worker-transport';

// The thread WorkerHttpTransport starts: one HTTP transport, one answer per body.
const transport = new OtlpHttpTransport(workerData as HttpTransportSettings);
parentPort?.on('message', ({ id, body }: ExportRequest) => {
  transport.send([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]).then(
    () => parentPort?.postMessage({ id } satisfies ExportAnswer),
    (err: unknown) => {
      const error =
        err instanceof ExportError
          ? { message: err.message, retryable: err.retryable, retryAfterMs: err.retryAfterMs }
          : { message: err instanceof Error ? err.message : String(err), retryable: true };
      parentPort?.postMessage({ id, error } satisfies ExportAnswer);
    },
  );
});
