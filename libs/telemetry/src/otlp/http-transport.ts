import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ResponseReader, type HttpResponse } from './http-response';

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

/** Answers are read into this buffer (Node's `onread`) and copied out only as far as they are kept. */
const READ_BUFFER_BYTES = 16 * 1024;

/**
 * POSTs OTLP/protobuf bodies over one kept-alive connection, one request at a time (the batcher never has
 * two in flight). HTTP/1.1 by hand rather than node:http, for the broker's sake: its MQTT sockets run through
 * Node's stream code, and node:http's requests (string header chunks, write callbacks, queued writes on a
 * connecting socket, answers pushed through the readable stream and its 'data' event) made V8 recompile that
 * code for other shapes and call targets at the first export, slowing every MQTT read and write after it.
 * Here the exporter connects ahead of time, writes one Buffer per request to the connected socket without a
 * callback, as the broker writes, and takes answers from `onread`, which bypasses the readable stream.
 * `send` resolves on a 2xx answer and rejects otherwise, closing the connection unless the answer left it
 * fit for the next request.
 */
export class OtlpHttpTransport {
  private readonly url: URL;
  private readonly head: string;
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  /** The answer being read on `socket`; bytes that arrive with none are not an answer to anything. */
  private reader: ResponseReader | undefined;
  private readonly readBuffer = Buffer.alloc(READ_BUFFER_BYTES);

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

  /** Opens the connection before the first export needs it; a collector not up yet is tried again then. */
  connect(): void {
    this.connection().catch(() => undefined);
  }

  async send(chunks: readonly Buffer[]): Promise<void> {
    // zlib runs on libuv's thread pool, not on the event loop.
    const body = this.settings.compression === 'gzip' ? [await gzipAsync(Buffer.concat(chunks))] : chunks;
    const socket = await this.connection();
    let response: HttpResponse;
    try {
      response = await this.exchange(socket, body);
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

  private connection(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Resolves once connected: a write to a connecting socket is queued in a way MQTT writes never are. */
  private open(): Promise<Socket> {
    const https = this.url.protocol === 'https:';
    const port = Number(this.url.port) || (https ? 443 : 80);
    const host = this.url.hostname.replace(/^\[|\]$/g, ''); // an IPv6 literal without its brackets
    let socket: Socket;
    if (https) {
      // TLS sockets take no `onread`; the broker's MQTT-over-TLS sockets are of that kind too.
      socket = tlsConnect({ host, port, servername: isIP(host) ? undefined : host });
      socket.on('data', (chunk: Buffer) => this.received(socket, chunk));
    } else {
      const buffer = this.readBuffer;
      const callback = (bytes: number) => {
        this.received(socket, buffer.subarray(0, bytes));
        return true;
      };
      socket = tcpConnect({ host, port, onread: { buffer, callback } });
    }
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
        socket.on('end', () => this.reader?.end());
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

  /** `chunk` may be the read buffer, which the next read overwrites. */
  private received(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    if (this.reader) this.reader.push(chunk);
    else this.close(socket);
  }

  private close(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }

  /** Writes one request and reads its answer. */
  private exchange(socket: Socket, body: readonly Buffer[]): Promise<HttpResponse> {
    let length = 0;
    for (const chunk of body) length += chunk.length;
    const head = Buffer.from(`${this.head}content-length: ${length}\r\n\r\n`, 'latin1');
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.reader = undefined;
        socket.off('error', failed);
        socket.off('close', closed);
        if (err) reject(err instanceof ExportError ? err : new ExportError(err.message, true));
        else resolve(response!);
      };
      const timer = setTimeout(
        () => finish(new ExportError(`OTLP export timed out after ${this.settings.timeoutMs} ms`, true)),
        this.settings.timeoutMs,
      );
      const failed = (err: Error) => finish(err);
      const closed = () => finish(new ExportError('OTLP collector closed the connection', true));
      socket.once('error', failed);
      socket.once('close', closed);
      this.reader = new ResponseReader(finish);
      // A copy of its own: the batch's buffers are free again at once, and no write callback is needed.
      socket.write(Buffer.concat([head, ...body], head.length + length));
    });
  }
}
