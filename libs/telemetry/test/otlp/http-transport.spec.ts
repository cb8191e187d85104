import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from '../../../listeners/test/certificates';
import { ExportError, OtlpHttpTransport } from '../../src/otlp/http-transport';

/**
 * A collector scripted byte by byte: `answer` gets each request (head and body, once Content-Length
 * bytes have arrived) and the socket to answer on, so a test controls framing, splits and closes.
 */
async function collector(answer: (request: string, body: Buffer, socket: Socket) => void) {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    sockets.push(socket);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length);
        buffered = buffered.subarray(end + 4 + length);
        answer(head, body, socket);
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return { url, connections };
}

const servers: Server[] = [];
const sockets: Socket[] = [];
const transports: OtlpHttpTransport[] = [];
afterEach(async () => {
  transports.splice(0).forEach((t) => t.destroy());
  sockets.splice(0).forEach((s) => s.destroy());
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function transportTo(url: string, timeoutMs = 2000, headers: Record<string, string> = { 'x-token': 'a b' }) {
  const transport = new OtlpHttpTransport({ url, headers, timeoutMs, compression: 'none' });
  transports.push(transport);
  return transport;
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n';

async function failure(promise: Promise<unknown>): Promise<ExportError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExportError);
  return err as ExportError;
}

describe('OtlpHttpTransport', () => {
  it('posts the chunks as one body with its headers, and keeps the connection for the next export', async () => {
    const requests: [string, string][] = [];
    const sink = await collector((head, body, socket) => {
      requests.push([head, body.toString()]);
      socket.write(OK);
    });
    const transport = transportTo(sink.url);
    await transport.send([Buffer.from('span'), Buffer.from('s-1')]);
    await transport.send([Buffer.from('spans-2')]);
    expect(requests.map(([, body]) => body)).toEqual(['spans-1', 'spans-2']);
    const head = requests[0][0].toLowerCase().split('\r\n');
    expect(head[0]).toBe('post /v1/traces http/1.1');
    expect(head).toEqual(
      expect.arrayContaining([
        `host: ${new URL(sink.url).host}`,
        'content-type: application/x-protobuf',
        'content-length: 7',
        'x-token: a b',
      ]),
    );
    expect(sink.connections).toHaveLength(1);
  });

  it('refuses at start-up a header that cannot be sent, naming it once and never echoing its value', () => {
    const url = 'http://127.0.0.1:4318/v1/traces';
    expect(() => transportTo(url, 2000, { 'x-token': 'secret\r\nx-evil: 1' })).toThrow(
      /^OTLP exporter header "x-token": its value holds characters HTTP headers cannot carry \(a line break\?\)$/,
    );
    expect(() => transportTo(url, 2000, { 'x token': 'a' })).toThrow(
      /^OTLP exporter header "x token": not a valid HTTP header name$/,
    );
  });

  it('reads chunked answers, with trailers, however the bytes are split, after a 100 Continue', async () => {
    const sink = await collector((_head, _body, socket) => {
      const answer =
        'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
        '5;ext=1\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n';
      // One byte at a time: every split point of the head, the chunk sizes and the trailers.
      let i = 0;
      const drip = () => {
        if (i < answer.length) socket.write(answer[i++], drip);
      };
      drip();
    });
    const transport = transportTo(sink.url);
    await transport.send([Buffer.from('a')]);
    await transport.send([Buffer.from('b')]);
    expect(sink.connections).toHaveLength(1);
  });

  it('opens a new connection after an answer that closes it, or one whose body ran to the close', async () => {
    let n = 0;
    const sink = await collector((_head, _body, socket) => {
      n++;
      if (n === 1) socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.end('HTTP/1.0 200 OK\r\n\r\nbody until the close');
    });
    const transport = transportTo(sink.url);
    await transport.send([Buffer.from('1')]);
    await transport.send([Buffer.from('2')]);
    await transport.send([Buffer.from('3')]);
    expect(sink.connections).toHaveLength(3);
  });

  it('refuses a non-2xx answer, retryable as OTLP/HTTP says, with Retry-After in milliseconds', async () => {
    const statuses = ['429 Too Many Requests\r\nretry-after: 3', '400 Bad Request', '503 Unavailable'];
    let n = 0;
    const sink = await collector((_head, _body, socket) =>
      socket.write(`HTTP/1.1 ${statuses[n++]}\r\ncontent-length: 2\r\n\r\nno`),
    );
    const transport = transportTo(sink.url);
    expect(await failure(transport.send([Buffer.from('x')]))).toMatchObject({
      message: 'OTLP export refused: HTTP 429',
      retryable: true,
      retryAfterMs: 3000,
    });
    expect(await failure(transport.send([Buffer.from('x')]))).toMatchObject({ retryable: false });
    expect(await failure(transport.send([Buffer.from('x')]))).toMatchObject({
      retryable: true,
      retryAfterMs: undefined,
    });
  });

  it('fails retryably, and reconnects, on a garbled answer, a close mid-answer or an unreachable collector', async () => {
    let n = 0;
    const sink = await collector((_head, _body, socket) => {
      n++;
      if (n === 1) socket.write('SMTP ready\r\n\r\n');
      else if (n === 2) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort');
      else socket.write(OK);
    });
    const transport = transportTo(sink.url);
    expect(await failure(transport.send([Buffer.from('x')]))).toMatchObject({ retryable: true });
    expect(await failure(transport.send([Buffer.from('x')]))).toMatchObject({ retryable: true });
    await transport.send([Buffer.from('x')]);
    expect(sink.connections).toHaveLength(3);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const unreachable = transportTo(`http://127.0.0.1:${port}/v1/traces`);
    expect(await failure(unreachable.send([Buffer.from('x')]))).toMatchObject({
      message: expect.stringContaining('ECONNREFUSED'),
      retryable: true,
    });
  });

  it('gives up on a collector that does not answer in time, and does not reuse that connection', async () => {
    let n = 0;
    const sink = await collector((_head, _body, socket) => {
      if (n++ > 0) socket.write(OK);
    });
    const transport = transportTo(sink.url, 100);
    expect(await failure(transport.send([Buffer.from('x')]))).toMatchObject({
      message: 'OTLP export timed out after 100 ms',
      retryable: true,
    });
    await transport.send([Buffer.from('x')]);
    expect(sink.connections).toHaveLength(2);
  });
});

describe('OtlpHttpTransport over https', () => {
  let pki: Pki;
  let server: HttpsServer;
  let url: string;
  const clients: (string | undefined)[] = [];
  beforeAll(async () => {
    pki = createPki();
    // Asks for a client certificate, and answers whether one signed by the CA came.
    server = createHttpsServer(
      {
        cert: pki.read(pki.server.cert),
        key: pki.read(pki.server.key),
        ca: pki.read(pki.ca),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        req.resume();
        req.on('end', () => {
          const socket = req.socket as TLSSocket;
          clients.push(socket.authorized ? String(socket.getPeerCertificate().subject.CN) : undefined);
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    pki.remove();
  });

  const tlsTransport = (tls: { caFile?: string; certFile?: string; keyFile?: string }) => {
    const transport = new OtlpHttpTransport({ url, headers: {}, timeoutMs: 2000, compression: 'none', tls });
    transports.push(transport);
    return transport;
  };

  it('trusts the CA it is given instead of the system’s, and presents its client certificate', async () => {
    await tlsTransport({ caFile: pki.ca }).send([Buffer.from('x')]);
    await tlsTransport({ caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key }).send([
      Buffer.from('x'),
    ]);
    expect(clients).toEqual([undefined, 'sensor-17']);

    expect(await failure(tlsTransport({}).send([Buffer.from('x')]))).toMatchObject({
      message: expect.stringMatching(/certificate/),
      retryable: true,
    });
  });

  it('refuses at start-up a certificate file it cannot read, naming it', () => {
    expect(() => tlsTransport({ caFile: join(pki.dir, 'missing.crt') })).toThrow(
      `cannot read the OTLP exporter's CA certificate ${join(pki.dir, 'missing.crt')}: ENOENT`,
    );
  });
});
