import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { HOST } from './launcher';

/**
 * An OTLP/HTTP endpoint that accepts and discards spans, on a thread of its own: the load generator's
 * event loop is busy, and a sink that answers late makes the broker's exporter fall behind (and shed
 * traces) when a collector would not. Its CPU counts as the generator's.
 */
export function startOtlpSink(): Promise<string> {
  const worker = new Worker(__filename);
  return new Promise((resolve, reject) => {
    worker.once('message', (url: string) => {
      worker.unref(); // serves until the benchmark exits
      resolve(url);
    });
    worker.once('error', reject);
  });
}

if (!isMainThread) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.listen(0, HOST, () => {
    parentPort?.postMessage(`http://${HOST}:${(server.address() as AddressInfo).port}`);
  });
}
