import { decodeTraceExport, type DecodedTraceExport, type KeyValue } from '@fluxmq/telemetry';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP export carries it, flattened for assertions. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  /** Unix nanoseconds, as a decimal string. */
  startTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string };
  resource: Record<string, string | number | boolean>;
}

function flatten(attrs: KeyValue[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attrs) {
    const v = Object.values(value)[0] as unknown;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
  }
  return out;
}

/** A minimal OTLP/HTTP trace receiver, of the protobuf encoding FluxMQ's exporter sends. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Server;

  private constructor(status: number, tls: { cert: Buffer; key: Buffer } | undefined) {
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.accept(decodeTraceExport(Buffer.concat(chunks)));
        res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
      });
    };
    this.server = tls ? createHttpsServer(tls, handle) : createServer(handle);
  }

  /**
   * `status`: what it answers every export with (and then keeps the spans all the same); `tls`: the
   * certificate and key to serve https with.
   */
  static async start(status = 200, tls?: { cert: Buffer; key: Buffer }): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver(status, tls);
    await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
    return receiver;
  }

  get url(): string {
    const scheme = this.server instanceof HttpsServer ? 'https' : 'http';
    return `${scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private accept(req: DecodedTraceExport): void {
    for (const rs of req.resourceSpans) {
      const resource = flatten(rs.resource.attributes);
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: s.startTimeUnixNano,
            attributes: flatten(s.attributes),
            status: s.status,
            resource,
          });
        }
      }
    }
  }
}
