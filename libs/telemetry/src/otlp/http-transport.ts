import { readFileSync } from 'node:fs';
import {
  Agent as HttpAgent,
  request as httpRequest,
  validateHeaderName,
  validateHeaderValue,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface HttpTransportSettings {
  /** The full traces URL, e.g. http://localhost:4318/v1/traces. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  /** PEM files for an https endpoint: the CA to trust instead of the system's, and a client certificate. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
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

/** Read once, at start-up, so that a wrong path stops the broker with a clear error. */
function pemFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the OTLP exporter's ${what} ${path}: ${(err as Error).message}`);
  }
}

/**
 * POSTs OTLP/protobuf bodies over one kept-alive connection. `send` resolves on a 2xx answer once the whole
 * body has been handed to the socket, rejects otherwise after closing the request: either way the body's
 * buffers are free for reuse when it settles.
 */
export class OtlpHttpTransport {
  private readonly url: URL;
  private readonly request: typeof httpRequest;
  private readonly options: RequestOptions;
  private readonly agent: HttpAgent;

  constructor(private readonly settings: HttpTransportSettings) {
    this.url = new URL(settings.url);
    // Checked once, at start-up: a header that cannot be sent stops the broker with a clear error rather
    // than failing every export.
    for (const [name, value] of Object.entries(settings.headers)) {
      const header = `OTLP exporter header ${JSON.stringify(name)}`;
      if (!isValid(() => validateHeaderName(name))) {
        throw new Error(`${header}: not a valid HTTP header name`);
      }
      if (!isValid(() => validateHeaderValue(name, value))) {
        throw new Error(`${header}: its value holds characters HTTP headers cannot carry (a line break?)`);
      }
    }
    const https = this.url.protocol === 'https:';
    this.request = https ? httpsRequest : httpRequest;
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    const tls = settings.tls ?? {};
    this.agent = https
      ? new HttpsAgent({
          ...agentOptions,
          ca: tls.caFile ? pemFile(tls.caFile, 'CA certificate') : undefined,
          cert: tls.certFile ? pemFile(tls.certFile, 'client certificate') : undefined,
          key: tls.keyFile ? pemFile(tls.keyFile, 'client key') : undefined,
        })
      : new HttpAgent(agentOptions);
    this.options = { method: 'POST', agent: this.agent, timeout: settings.timeoutMs };
  }

  /** Closes the kept-alive connection (at shutdown, once the last export has settled). */
  destroy(): void {
    this.agent.destroy();
  }

  /** Sends the chunks as one body: written one after another, they leave in one system call. */
  async send(chunks: readonly Buffer[]): Promise<void> {
    // zlib runs on libuv's thread pool, not on the event loop.
    const body = this.settings.compression === 'gzip' ? [await gzipAsync(Buffer.concat(chunks))] : chunks;
    let length = 0;
    for (const chunk of body) length += chunk.length;
    const headers: Record<string, string | number> = {
      ...this.settings.headers,
      'content-type': 'application/x-protobuf',
      'content-length': length,
    };
    if (this.settings.compression === 'gzip') headers['content-encoding'] = 'gzip';
    await new Promise<void>((resolve, reject) => {
      // Whatever went wrong on the connection (an answer cut short, an unreadable one) may pass.
      const fail = (err: Error) => {
        req.destroy();
        reject(err instanceof ExportError ? err : new ExportError(err.message, true));
      };
      const req = this.request(this.url, { ...this.options, headers }, (res) => {
        res.resume();
        res.once('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const retryAfter = Number(res.headers['retry-after']);
            return fail(
              new ExportError(
                `OTLP export refused: HTTP ${status}`,
                RETRYABLE_STATUS.has(status),
                Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
              ),
            );
          }
          // A server may answer before it has read the body; the body must be out before it is reused.
          if (req.writableFinished) resolve();
          else req.once('finish', resolve);
        });
        res.once('error', fail);
      });
      req.once('timeout', () =>
        fail(new ExportError(`OTLP export timed out after ${this.settings.timeoutMs} ms`, true)),
      );
      req.once('error', (err) =>
        reject(err instanceof ExportError ? err : new ExportError(err.message, true)),
      );
      for (let i = 0; i < body.length - 1; i++) req.write(body[i]);
      req.end(body[body.length - 1]);
    });
  }
}

function isValid(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}
