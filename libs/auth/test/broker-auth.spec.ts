import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig, type AuthConfig, type FluxConfigInput } from '@fluxmq/config';
import type { ClientCertificate, ClientInfo, ConnectRequest, Logger } from '@fluxmq/engine';
import { SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerAuth } from '../src';
import { hashPassword } from '../src/password';

const FAST = { N: 1024, r: 8, p: 1 };
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
let aliceHash: string;
let bobHash: string;
beforeAll(async () => {
  [aliceHash, bobHash] = await Promise.all([hashPassword('alice-pw', FAST), hashPassword('bob-pw', FAST)]);
});

const lines: string[] = [];
const logger: Logger = {
  debug: (msg, fields) => void lines.push(JSON.stringify({ msg, ...fields })),
  info: (msg, fields) => void lines.push(JSON.stringify({ msg, ...fields })),
  warn: (msg, fields) => void lines.push(JSON.stringify({ msg, ...fields })),
  error: (msg, fields) => void lines.push(JSON.stringify({ msg, ...fields })),
};

const servers: Server[] = [];
afterEach(async () => {
  lines.length = 0;
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

function auth(settings: FluxConfigInput['auth']): BrokerAuth {
  const config: AuthConfig = parseConfig({ auth: { enabled: true, ...settings } }).auth;
  return new BrokerAuth(config, logger);
}

function connect(fields: Partial<Omit<ConnectRequest, 'password'>> & { password?: string }): ConnectRequest {
  const { password, ...rest } = fields;
  return {
    clientId: 'c1',
    username: undefined,
    remoteAddress: '127.0.0.1',
    listener: 'tcp',
    protocolVersion: 5,
    properties: undefined,
    password: password === undefined ? undefined : Buffer.from(password),
    ...rest,
  };
}

/** What the engine does after an accepted login: the client's username is the one the result gave. */
function connected(broker: BrokerAuth, request: ConnectRequest, username: string | undefined): ClientInfo {
  const client: ClientInfo = { ...request, username };
  broker.observer.clientConnected!(client, false);
  return client;
}

const certificate: ClientCertificate = {
  subject: 'O=Acme\nCN=sensor-17',
  commonName: 'sensor-17',
  subjectAltNames: ['DNS:sensor-17.local', 'email:ops@acme.test'],
};

describe('login', () => {
  it('checks built-in users: 0x86 for a wrong password, an unknown user or a missing password', async () => {
    const broker = auth({ users: [{ username: 'alice', passwordHash: aliceHash }] });
    expect(await broker.authenticate(connect({ username: 'alice', password: 'alice-pw' }))).toEqual({
      ok: true,
      username: 'alice',
    });
    for (const attempt of [
      { username: 'alice', password: 'wrong' },
      { username: 'mallory', password: 'alice-pw' },
      { username: 'alice' },
      { password: 'alice-pw' },
    ]) {
      expect(await broker.authenticate(connect(attempt))).toMatchObject({ ok: false, reasonCode: 0x86 });
    }
    expect(lines.filter((l) => l.includes('authentication failed')).map((l) => JSON.parse(l).why)).toEqual([
      'wrong password',
      'unknown user',
      'wrong password',
      'no username',
    ]);
    expect(lines.some((l) => l.includes('alice-pw') || l.includes('"wrong"'))).toBe(false); // no passwords
  });

  it('refuses anonymous clients with 0x87 unless allowAnonymous', async () => {
    expect(await auth({}).authenticate(connect({}))).toMatchObject({ ok: false, reasonCode: 0x87 });
    expect(await auth({ allowAnonymous: true }).authenticate(connect({}))).toEqual({
      ok: true,
      username: undefined,
    });
  });

  it('logs a client in by its certificate CN or first SAN, ahead of anything it sent', async () => {
    const byCn = auth({ certificate: { enabled: true } });
    const request = connect({ certificate, username: 'admin', password: 'guess' });
    expect(await byCn.authenticate(request)).toEqual({ ok: true, username: 'sensor-17' });
    const bySan = auth({ certificate: { enabled: true, identity: 'san' } });
    expect(await bySan.authenticate(connect({ certificate }))).toEqual({
      ok: true,
      username: 'sensor-17.local',
    });
    // A certificate without the identity asked for, or certificate login off: the other methods decide.
    const noSan = { ...certificate, subjectAltNames: [] };
    expect(await bySan.authenticate(connect({ certificate: noSan }))).toMatchObject({
      ok: false,
      reasonCode: 0x87,
    });
    expect(await auth({}).authenticate(connect({ certificate }))).toMatchObject({
      ok: false,
      reasonCode: 0x87,
    });
  });

  it("logs in with a JWT password, and binds the token's ACL to that connection only", async () => {
    const broker = auth({
      jwt: { enabled: true, secret: SECRET },
      acl: [{ effect: 'allow', topic: 'public/#' }],
    });
    const token = await new SignJWT({ sub: 'carol', acl: [{ topic: 'carol/#' }] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    const request = connect({ clientId: 'jwt-1', username: 'ignored', password: token });
    const result = await broker.authenticate(request);
    expect(result).toEqual({ ok: true, username: 'carol' });
    const client = connected(broker, request, 'carol');
    expect(broker.canPublish(client, 'carol/x', 0, false)).toBe(true);
    expect(broker.canPublish(client, 'public/x', 0, false)).toBe(true); // the configured rules still apply
    // Another connection with the same client id and username but no token gets no token rules.
    const other = connected(broker, connect({ clientId: 'jwt-1' }), 'carol');
    expect(broker.canPublish(other, 'carol/x', 0, false)).toBe(false);

    const expired = await new SignJWT({ sub: 'carol' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
      .sign(new TextEncoder().encode(SECRET));
    expect(await broker.authenticate(connect({ password: expired }))).toMatchObject({
      ok: false,
      reasonCode: 0x86,
    });
    // Neither tokens nor passwords ever reach the log.
    expect(lines.some((l) => l.includes(token) || l.includes(expired))).toBe(false);
  });

  it('asks the HTTP service about credentials no built-in user has; fails closed with 0x88, or open', async () => {
    const asked: string[] = [];
    let up = true;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { username, password } = JSON.parse(body) as { username: string; password: string };
        asked.push(username);
        if (!up) return void res.writeHead(503).end();
        const result =
          password === 'svc-pw' ? { result: 'allow', acl: [{ topic: 'svc/#' }] } : { result: 'deny' };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/login`;
    const http = { enabled: true, authenticateUrl: url, cacheTtlSeconds: 0 };
    const broker = auth({ users: [{ username: 'alice', passwordHash: aliceHash }], http });

    expect(await broker.authenticate(connect({ username: 'alice', password: 'alice-pw' }))).toMatchObject({
      ok: true,
    });
    expect(await broker.authenticate(connect({ username: 'alice', password: 'svc-pw' }))).toMatchObject({
      ok: false,
      reasonCode: 0x86,
    });
    const request = connect({ clientId: 'svc-1', username: 'dave', password: 'svc-pw' });
    expect(await broker.authenticate(request)).toEqual({ ok: true, username: 'dave' });
    expect(broker.canSubscribe(connected(broker, request, 'dave'), 'svc/#', 0)).toBe(true);
    expect(await broker.authenticate(connect({ username: 'dave', password: 'no' }))).toMatchObject({
      reasonCode: 0x86,
    });
    expect(asked).toEqual(['dave', 'dave']); // built-in users never reach the service

    up = false;
    expect(await broker.authenticate(connect({ username: 'dave', password: 'svc-pw' }))).toMatchObject({
      ok: false,
      reasonCode: 0x88,
    });
    const open = auth({ http: { ...http, failOpen: true } });
    expect(await open.authenticate(connect({ username: 'dave', password: 'svc-pw' }))).toEqual({
      ok: true,
      username: 'dave',
    });
  });
});

describe('users and rules replaced at run time', () => {
  it('setUsers replaces the stored users; configured ones stay and win; a bad hash changes nothing', async () => {
    const broker = auth({ users: [{ username: 'alice', passwordHash: aliceHash }] });
    const bob = connect({ username: 'bob', password: 'bob-pw' });
    expect(await broker.authenticate(bob)).toMatchObject({ ok: false });
    broker.setUsers([
      { username: 'bob', passwordHash: bobHash },
      { username: 'alice', passwordHash: bobHash },
    ]);
    expect(await broker.authenticate(bob)).toMatchObject({ ok: true, username: 'bob' });
    expect(await broker.authenticate(connect({ username: 'alice', password: 'alice-pw' }))).toMatchObject({
      ok: true,
    });
    expect(() => broker.setUsers([{ username: 'eve', passwordHash: 'plaintext' }])).toThrow('user eve');
    expect(await broker.authenticate(bob)).toMatchObject({ ok: true });
    broker.setUsers([]);
    expect(await broker.authenticate(bob)).toMatchObject({ ok: false });
  });

  it('setRules takes effect at once for connected clients', () => {
    const broker = auth({ allowAnonymous: true, acl: [{ effect: 'allow', topic: 'a/#' }] });
    const client = connected(broker, connect({}), undefined);
    expect(broker.canPublish(client, 'b/1', 0, false)).toBe(false);
    broker.setRules([{ effect: 'allow', topic: 'b/#', id: 'stored-1' }]);
    expect(broker.canPublish(client, 'b/1', 0, false)).toBe(true);
    expect(broker.canSubscribe(client, 'a/#', 0)).toBe(true);
    broker.setRules([]);
    expect(broker.canPublish(client, 'b/1', 0, false)).toBe(false);
  });
});
