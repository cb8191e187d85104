import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { readResponse, type HttpResponse } from './http-response';

const gzipAsync = promisify(gzip);

export interface HttpTransportSettings {
  /** The full traces URL, e.g. http://localhost:4318/v1/traces. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
}

/**
 * A failed export. `retryable` follows the OTLP/HTTP specification: 429, 502, 503 and 504 answers, and a
 * collector that could not be reached or did not answer in time, may succeed later; anything else will not.
 */
export class ExportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The server's Retry-After, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * POSTs OTLP/protobuf bodies over one kept-alive connection, one request at a time (the batcher never has
 * two in flight). HTTP/1.1 by hand rather than node:http: the broker's own sockets run through Node's stream
 * code, and node:http's requests (string header chunks, sockets with an HTTP parser) made V8 recompile that
 * code for objects of other shapes at the first export, slowing every MQTT write and read after it. Here the
 * exporter writes Buffers to a plain socket, corked, as the broker does. `send` resolves on a 2xx answer once
 * the whole body is out, rejects otherwise after closing the connection: either way the body's buffers are
 * free for reuse when it settles.
 */
export class OtlpHttpTransport {
  private readonly url: URL;
  private readonly head: string;
  private socket: Socket | undefined;

  constructor(private readonly settings: HttpTransportSettings) {
    this.url = new URL(settings.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new Error(`OTLP endpoint ${settings.url}: only http: and https: are supported`);
    }
    const headers: Record<string, string> = {
      ...settings.headers,
      host: this.url.host,
      'content-type': 'application/x-protobuf',
    };
    if (settings.compression === 'gzip') headers['content-encoding'] = 'gzip';
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    this.head = `POST ${this.url.pathname}${this.url.search} HTTP/1.1\r\n${lines.join('')}`;
  }

  async send(chunks: readonly Buffer[]): Promise<void> {
    // zlib runs on libuv's thread pool, not on the event loop.
    const body = this.settings.compression === 'gzip' ? [await gzipAsync(Buffer.concat(chunks))] : chunks;
    let length = 0;
    for (const chunk of body) length += chunk.length;
    const socket = this.socket ?? (await this.open());
    let response: HttpResponse;
    try {
      response = await this.exchange(socket, body, length);
    } catch (err) {
      this.close(socket);
      throw err;
    }
    if (!response.keepAlive) this.close(socket);
    const status = response.status;
    if (status < 200 || status >= 300) {
      const retryAfter = Number(response.retryAfter);
      throw new ExportError(
        `OTLP export refused: HTTP ${status}`,
        RETRYABLE_STATUS.has(status),
        response.retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0
          ? retryAfter * 1000
          : undefined,
      );
    }
  }

  /** Closes the connection; a later `send` opens another. */
  destroy(): void {
    if (this.socket) this.close(this.socket);
  }

  /**
   * Connects, and resolves only once connected: a write to a connecting socket is queued in its stream
   * state, which gives that state a shape the broker's sockets never have (see the class comment).
   */
  private open(): Promise<Socket> {
    const https = this.url.protocol === 'https:';
    const port = Number(this.url.port) || (https ? 443 : 80);
    const host = this.url.hostname.replace(/^\[|\]$/g, ''); // an IPv6 literal without its brackets
    const socket = https
      ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host })
      : tcpConnect({ host, port });
    return new Promise<Socket>((resolve, reject) => {
      const fail = (err: ExportError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new ExportError(`OTLP export timed out after ${this.settings.timeoutMs} ms`, true)),
        this.settings.timeoutMs,
      );
      const refused = (err: Error) => fail(new ExportError(err.message, true));
      socket.once('error', refused);
      socket.once(https ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', refused);
        socket.setNoDelay(true);
        socket.on('error', () => this.close(socket)); // an idle connection's: the next send reconnects
        socket.on('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        // Kept alive between exports, but never what keeps the process running.
        socket.unref();
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private close(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }

  /** Writes one request and reads its answer; resolves when both are done. */
  private exchange(socket: Socket, body: readonly Buffer[], length: number): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      let written = false;
      let answer: HttpResponse | undefined;
      const timer = setTimeout(
        () => finish(new ExportError(`OTLP export timed out after ${this.settings.timeoutMs} ms`, true)),
        this.settings.timeoutMs,
      );
      const stopReading = readResponse(socket, (err, response) => {
        if (err) return finish(err);
        answer = response;
        // A server may answer before it has read the body; the body must be out before it is reused.
        if (written || response!.status < 200 || response!.status >= 300) finish();
      });
      const finish = (err?: Error) => {
        clearTimeout(timer);
        stopReading();
        socket.off('close', closed);
        socket.off('error', failed);
        if (err) reject(err);
        else resolve(answer!);
      };
      const failed = (err: Error) => finish(new ExportError(err.message, true));
      const closed = () => finish(new ExportError('OTLP collector closed the connection', true));
      socket.once('error', failed);
      socket.once('close', closed);
      socket.cork();
      socket.write(Buffer.from(`${this.head}content-length: ${length}\r\n\r\n`, 'latin1'));
      for (let i = 0; i < body.length - 1; i++) socket.write(body[i]);
      socket.write(body[body.length - 1] ?? Buffer.alloc(0), () => {
        written = true;
        if (answer) finish();
      });
      socket.uncork();
    });
  }
}
