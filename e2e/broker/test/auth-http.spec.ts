import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import {
  connackCode,
  fluxOnly,
  mosquittoPub,
  onCleanup,
  rawConnect,
  RawClient,
  TestClient,
  v311,
  v5,
} from './support';
import { startAuthBroker, type AuthBroker } from './support/auth-broker';

// The HTTP callout: an external service answers logins and publish/subscribe requests.
const it = fluxOnly('the HTTP auth callout is configured through FluxMQ itself');

interface AuthService {
  url: string;
  calls: { path: string; body: Record<string, unknown> }[];
  /** false: the service stops answering (every call times out). */
  answering: boolean;
}

/**
 * Logins: password `svc-pw` is admitted as `svc-<username>`, with its own rule to publish on `acl/<name>/#`.
 * Requests: allowed on topics under `<username>/`.
 */
async function startAuthService(): Promise<AuthService> {
  const service: AuthService = { url: '', calls: [], answering: true };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      service.calls.push({ path: req.url ?? '', body });
      if (!service.answering) return;
      const answer =
        req.url === '/login'
          ? body['password'] === 'svc-pw'
            ? {
                result: 'allow',
                username: `svc-${body['username']}`,
                acl: [{ action: 'publish', topic: `acl/${body['username']}/#` }],
              }
            : { result: 'deny' }
          : { result: String(body['topic']).startsWith(`${body['username']}/`) ? 'allow' : 'deny' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup('auth service', async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return service;
}

async function startWithService(
  http: Record<string, unknown> = {},
): Promise<{ broker: AuthBroker; service: AuthService }> {
  const service = await startAuthService();
  const broker = await startAuthBroker({
    auth: {
      http: {
        enabled: true,
        authenticateUrl: `${service.url}/login`,
        authorizeUrl: `${service.url}/acl`,
        timeoutMs: 300,
        ...http,
      },
    },
  });
  return { broker, service };
}

async function connackOf(broker: AuthBroker, protocolVersion: 4 | 5, username: string, password: string) {
  const raw = await RawClient.open(broker, { protocolVersion });
  return connackCode(await raw.connect({ username, password: Buffer.from(password) }));
}

describe('HTTP callout', () => {
  it('logs clients in as the service answers, with the username and ACL it gives', async () => {
    const { broker, service } = await startWithService();
    const client = await TestClient.connect(broker.tcpUrl, { ...v5, username: 'ann', password: 'svc-pw' });
    expect(service.calls[0]).toEqual({
      path: '/login',
      body: {
        clientId: client.clientId,
        username: 'ann',
        password: 'svc-pw',
        remoteAddress: '127.0.0.1',
        listener: 'tcp',
        protocolVersion: 5,
      },
    });
    // The service renamed the client: its own topics are now under svc-ann/.
    await client.subscribe('svc-ann/#', { qos: 1 });
    await client.publish('acl/ann/x', 'from the login answer', { qos: 1 });
    await expect(client.subscribe('ann/#', { qos: 1 })).rejects.toThrow(/not authorized/i);

    expect(await connackOf(broker, 5, 'ann', 'wrong')).toBe(0x86);
    expect(await connackOf(broker, 4, 'ann', 'wrong')).toBe(4);
    const cli = await mosquittoPub(broker, [
      '-V',
      'mqttv311',
      '-u',
      'bo',
      '-P',
      'svc-pw',
      '-t',
      'svc-bo/x',
      '-m',
      'x',
      '-q',
      '1',
    ]);
    expect(cli.code).toBe(0);
  });

  it('authorizes what no rule decides per filter and per publish, and reuses cached answers', async () => {
    const { broker, service } = await startWithService();
    const { client } = await rawConnect(broker, {
      protocolVersion: 5,
      username: 'cy',
      password: Buffer.from('svc-pw'),
    });
    const subscriptions = [
      { topic: 'svc-cy/a', qos: 0 as const },
      { topic: 'other/a', qos: 0 as const },
    ];
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions });
    expect((await client.next('suback')).granted).toEqual([0, 0x87]);
    const subscriber = await TestClient.connect(broker.tcpUrl, {
      ...v311,
      username: 'cy',
      password: 'svc-pw',
    });
    await subscriber.subscribe('svc-cy/#', { qos: 1 });
    const publisher = await TestClient.connect(broker.tcpUrl, { ...v5, username: 'cy', password: 'svc-pw' });
    await publisher.publish('svc-cy/t', 'one', { qos: 1 });
    await publisher.publish('svc-cy/t', 'two', { qos: 1 });
    await expect(publisher.publish('other/t', 'no', { qos: 1 })).rejects.toThrow(/not authorized/i);
    await subscriber.waitForMessages(2);

    const acl = service.calls.filter((c) => c.path === '/acl').map((c) => c.body);
    expect(acl.filter((b) => b['action'] === 'publish' && b['topic'] === 'svc-cy/t')).toHaveLength(1); // cached
    expect(acl).toContainEqual({
      clientId: publisher.clientId,
      username: 'svc-cy',
      remoteAddress: '127.0.0.1',
      listener: 'tcp',
      protocolVersion: 5,
      action: 'publish',
      topic: 'svc-cy/t',
      qos: 1,
      retain: false,
    });
    // One login call per client: the client id is part of what a cached login answer is for.
    expect(service.calls.filter((c) => c.path === '/login')).toHaveLength(3);
  });

  it('fails closed when the service does not answer: CONNACK 0x88 (5.0) or return code 3 (3.1.1), requests denied', async () => {
    const { broker, service } = await startWithService({ cacheTtlSeconds: 0 });
    const client = await TestClient.connect(broker.tcpUrl, { ...v5, username: 'di', password: 'svc-pw' });
    service.answering = false;
    expect(await connackOf(broker, 5, 'di', 'svc-pw')).toBe(0x88);
    expect(await connackOf(broker, 4, 'di', 'svc-pw')).toBe(3);
    await expect(client.subscribe('svc-di/#', { qos: 0 })).rejects.toThrow(/not authorized/i);
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ msg: 'auth http authenticate call failed', why: 'no answer within 300 ms' }),
    );
  });

  it('fails open when told to', async () => {
    const { broker, service } = await startWithService({ failOpen: true });
    service.answering = false;
    const client = await TestClient.connect(broker.tcpUrl, { ...v5, username: 'ed', password: 'anything' });
    await client.subscribe('whatever/#', { qos: 0 });
  });
});
