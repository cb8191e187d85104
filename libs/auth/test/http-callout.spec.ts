import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultConfig } from '@fluxmq/config';
import type { ClientInfo, ConnectRequest, Logger } from '@fluxmq/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpCallout, type HttpConfig } from '../src/http-callout';

type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;

interface Service {
  url: string;
  requests: Record<string, unknown>[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A real HTTP service on loopback answering each POSTed JSON body with `handler`. */
async function service(handler: Handler): Promise<Service> {
  const requests: Record<string, unknown>[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      requests.push({ path: req.url, contentType: req.headers['content-type'], ...body });
      handler(body, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function json(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

const warnings: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn: (msg) => void warnings.push(msg), error() {} };

function callout(url: string, overrides: Partial<HttpConfig> = {}): HttpCallout {
  const urls = { authenticateUrl: `${url}/login`, authorizeUrl: `${url}/acl` };
  return new HttpCallout({ ...defaultConfig().auth.http, enabled: true, ...urls, ...overrides }, logger);
}

const request: ConnectRequest = {
  clientId: 'dev-1',
  username: 'alice',
  password: Buffer.from('s3cret'),
  remoteAddress: '::ffff:127.0.0.1',
  listener: 'tcp',
  protocolVersion: 5,
  properties: undefined,
};
const client: ClientInfo = request;

describe('HTTP callout', () => {
  it('logs in with what the service answers, sending the documented body', async () => {
    const svc = await service((body, res) =>
      json(
        res,
        body['password'] === 's3cret'
          ? { result: 'allow', username: 'Alice', acl: [{ topic: 'a/#' }] }
          : { result: 'deny' },
      ),
    );
    const http = callout(svc.url);
    const login = await http.authenticate(request);
    expect(login).toMatchObject({ result: 'allow', username: 'Alice' });
    expect(login.result === 'allow' && login.acl?.length).toBe(1);
    expect(svc.requests[0]).toEqual({
      path: '/login',
      contentType: 'application/json',
      clientId: 'dev-1',
      username: 'alice',
      password: 's3cret',
      remoteAddress: '::ffff:127.0.0.1',
      listener: 'tcp',
      protocolVersion: 5,
    });
    expect(await http.authenticate({ ...request, password: Buffer.from('wrong') })).toEqual({
      result: 'deny',
    });
  });

  it('authorizes with what the service answers, sending the documented body', async () => {
    const svc = await service((body, res) =>
      json(res, { result: body['topic'] === 'ok/x' ? 'allow' : 'deny' }),
    );
    const http = callout(svc.url);
    expect(await http.authorize(client, 'publish', 'ok/x', 1, true)).toBe('allow');
    expect(await http.authorize(client, 'subscribe', 'no/#', 0, false)).toBe('deny');
    expect(svc.requests).toEqual([
      {
        path: '/acl',
        contentType: 'application/json',
        clientId: 'dev-1',
        username: 'alice',
        remoteAddress: '::ffff:127.0.0.1',
        listener: 'tcp',
        protocolVersion: 5,
        action: 'publish',
        topic: 'ok/x',
        qos: 1,
        retain: true,
      },
      expect.objectContaining({ action: 'subscribe', topic: 'no/#', qos: 0, retain: false }),
    ]);
  });

  it('answers a repeated question from its cache, synchronously, and shares a call in flight', async () => {
    const svc = await service((_body, res) => json(res, { result: 'allow' }));
    const http = callout(svc.url);
    const [a, b] = await Promise.all([http.authenticate(request), http.authenticate(request)]);
    expect([a.result, b.result]).toEqual(['allow', 'allow']);
    expect((await http.authenticate(request)).result).toBe('allow');
    expect(await http.authorize(client, 'publish', 't', 0, false)).toBe('allow');
    expect(http.authorize(client, 'publish', 't', 0, false)).toBe('allow'); // not a Promise: no pause
    expect(svc.requests.length).toBe(2);
  });

  it('asks again once the cache time is over, and every time with a TTL of 0', async () => {
    const svc = await service((_body, res) => json(res, { result: 'allow' }));
    const uncached = callout(svc.url, { cacheTtlSeconds: 0 });
    await uncached.authorize(client, 'publish', 't', 0, false);
    await uncached.authorize(client, 'publish', 't', 0, false);
    expect(svc.requests.length).toBe(2);
  });

  it('fails a call the service does not answer in time', async () => {
    const svc = await service(() => undefined); // never answers
    const http = callout(svc.url, { timeoutMs: 100 });
    const started = Date.now();
    expect(await http.authenticate(request)).toEqual({ result: 'failed', why: 'no answer within 100 ms' });
    expect(await http.authorize(client, 'publish', 't', 0, false)).toBe('failed');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(warnings).toContain('auth http authorize call failed');
  });

  it('fails on an error status, an answer without a result, and an unreachable service; failures are not cached', async () => {
    let status = 500;
    const svc = await service((_body, res) =>
      json(res, status === 200 ? { verdict: 'yes' } : { result: 'allow' }, status),
    );
    const http = callout(svc.url);
    expect(await http.authenticate(request)).toEqual({ result: 'failed', why: 'HTTP 500' });
    expect(await http.authorize(client, 'publish', 't', 0, false)).toBe('failed');
    status = 200;
    expect(await http.authenticate(request)).toEqual({
      result: 'failed',
      why: 'answer has no result "allow" or "deny"',
    });
    expect(svc.requests.length).toBe(3);
    const closed = await service(() => undefined);
    servers.pop()!.close(); // a port where nothing listens any more
    const down = callout(closed.url, { timeoutMs: 1000 });
    expect(await down.authenticate(request)).toMatchObject({
      result: 'failed',
      why: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('fails on a malformed username or ACL in a login answer', async () => {
    const answers = [
      { result: 'allow', username: 7 },
      { result: 'allow', acl: [{ topic: 'a/#/b' }] },
    ];
    const svc = await service((_body, res) => json(res, answers.shift()));
    const http = callout(svc.url);
    expect(await http.authenticate(request)).toMatchObject({ result: 'failed' });
    expect(await http.authenticate(request)).toMatchObject({
      result: 'failed',
      why: expect.stringContaining('http.acl[0]'),
    });
  });
});
