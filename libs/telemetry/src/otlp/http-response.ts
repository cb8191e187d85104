/** What the exporter needs of an HTTP answer; its body (an OTLP partial success, at most) is skipped. */
export interface HttpResponse {
  readonly status: number;
  readonly retryAfter: string | undefined;
  /** False when the server closes the connection after this answer, or left it unusable. */
  readonly keepAlive: boolean;
}

/** A collector's answer is a few bytes; anything far larger is not one. */
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

interface Head {
  status: number;
  retryAfter: string | undefined;
  keepAlive: boolean;
  chunked: boolean;
  contentLength: number | undefined;
}

/**
 * Reads one HTTP/1.1 answer (skipping 1xx interim answers) from the bytes it is given, and calls `done`
 * once: with the answer when its body has been read whole, or with the error that made it unreadable.
 */
export class ResponseReader {
  private buffered: Buffer = Buffer.alloc(0);
  private head: Head | undefined;
  private settled = false;

  constructor(private readonly done: (err: Error | undefined, response?: HttpResponse) => void) {}

  /** The caller may reuse `chunk` once this returns. */
  push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    try {
      this.parse();
    } catch (err) {
      this.settle(err as Error);
    }
  }

  /** The server closed its side. */
  end(): void {
    const head = this.head;
    if (head && !head.chunked && head.contentLength === undefined) this.answered(false);
    else this.settle(new Error('OTLP collector closed the connection mid-answer'));
  }

  private parse(): void {
    while (!this.settled) {
      if (!this.head) {
        const end = this.buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.buffered.length > MAX_HEAD_BYTES) throw new Error('HTTP answer head too large');
          return;
        }
        const head = parseHead(this.buffered.toString('latin1', 0, end));
        this.buffered = this.buffered.subarray(end + 4);
        // 100 Continue and the like: the real answer follows.
        if (head.status >= 200) this.head = head;
        continue;
      }
      const head = this.head;
      let bodyEnd: number;
      if (head.status === 204 || head.status === 304) bodyEnd = 0;
      else if (head.chunked) bodyEnd = chunkedBodyEnd(this.buffered);
      else if (head.contentLength !== undefined)
        bodyEnd = this.buffered.length >= head.contentLength ? head.contentLength : -1;
      else bodyEnd = -1; // the body runs until the server closes the connection: `end`
      if (bodyEnd < 0) {
        if (this.buffered.length > MAX_BODY_BYTES) throw new Error('HTTP answer body too large');
        return;
      }
      // Bytes past the answer were never asked for: the connection is not trusted further.
      return this.answered(head.keepAlive && this.buffered.length === bodyEnd);
    }
  }

  private answered(keepAlive: boolean): void {
    const head = this.head!;
    this.settle(undefined, { status: head.status, retryAfter: head.retryAfter, keepAlive });
  }

  private settle(err: Error | undefined, response?: HttpResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.done(err, response);
  }
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]);
  if (!statusLine) throw new Error(`not an HTTP/1.x answer: ${JSON.stringify(lines[0].slice(0, 80))}`);
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const connection = fields.get('connection')?.toLowerCase();
  const length = fields.get('content-length');
  if (length !== undefined && !/^\d+$/.test(length)) {
    throw new Error(`invalid Content-Length in HTTP answer: ${JSON.stringify(length)}`);
  }
  return {
    status: Number(statusLine[2]),
    retryAfter: fields.get('retry-after'),
    keepAlive: statusLine[1] === '1' ? connection !== 'close' : connection === 'keep-alive',
    chunked: fields.get('transfer-encoding')?.toLowerCase().endsWith('chunked') ?? false,
    contentLength: length === undefined ? undefined : Number(length),
  };
}

/** Where a chunked body (with its trailers) ends in `buf`, or -1 when it has not all arrived. */
function chunkedBodyEnd(buf: Buffer): number {
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return -1;
    const sizeField = buf.toString('latin1', at, eol).split(';')[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeField)) {
      throw new Error(`invalid chunk size in HTTP answer: ${JSON.stringify(sizeField.slice(0, 20))}`);
    }
    const size = parseInt(sizeField, 16);
    at = eol + 2;
    if (size === 0) {
      // Trailer fields, if any, then an empty line.
      for (;;) {
        const end = buf.indexOf('\r\n', at);
        if (end < 0) return -1;
        if (end === at) return end + 2;
        at = end + 2;
      }
    }
    if (buf.length < at + size + 2) return -1;
    at += size + 2;
  }
}
