import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { beforeAll, describe, expect } from 'vitest';
import {
  connackCode,
  fluxOnly,
  LOCAL_PORTS,
  mosquittoPub,
  RawClient,
  startApp,
  startMosquittoSub,
  TestClient,
  v311,
  v5,
  type AppProcess,
} from './support';
import { startAuthBroker } from './support/auth-broker';

// Built-in users and anonymous access. Authentication is configured through FluxMQ itself.
const it = fluxOnly('authentication is configured through FluxMQ itself');

let aliceHash: string;
let bobHash: string;
beforeAll(async () => {
  const { hashPassword } = await import('@fluxmq/auth'); // lazily, as the engine: see support/broker.ts
  [aliceHash, bobHash] = await Promise.all([hashPassword('alice-pw'), hashPassword('bob-pw')]);
});

const alice = () => ({ username: 'alice', passwordHash: aliceHash });
const ownTopics = { effect: 'allow' as const, topic: 'users/%u/#' };

async function connackOf(
  broker: Awaited<ReturnType<typeof startAuthBroker>>,
  protocolVersion: 4 | 5,
  credentials: { username?: string; password?: string },
): Promise<number | undefined> {
  const raw = await RawClient.open(broker, { protocolVersion });
  const { username, password } = credentials;
  const connack = await raw.connect({
    username,
    password: password === undefined ? undefined : Buffer.from(password),
  });
  return connackCode(connack);
}

describe('built-in users', () => {
  it('admit the right password; refuse a wrong password or unknown user with 0x86 (5.0) or return code 4 (3.1.1)', async () => {
    const broker = await startAuthBroker({ auth: { users: [alice()], acl: [ownTopics] } });
    for (const [version, bad] of [
      [5, 0x86],
      [4, 4],
    ] as const) {
      expect(await connackOf(broker, version, { username: 'alice', password: 'alice-pw' })).toBe(0);
      expect(await connackOf(broker, version, { username: 'alice', password: 'wrong' })).toBe(bad);
      expect(await connackOf(broker, version, { username: 'nobody', password: 'alice-pw' })).toBe(bad);
      expect(await connackOf(broker, version, { username: 'alice' })).toBe(bad);
    }
    // MQTT.js, both versions: the accepted client can use its own topics.
    const client = await TestClient.connect(broker.tcpUrl, {
      ...v5,
      username: 'alice',
      password: 'alice-pw',
    });
    await client.subscribe('users/alice/#', { qos: 1 });
    await client.publish('users/alice/inbox', 'hello', { qos: 1 });
    expect((await client.waitForMessage('users/alice/inbox')).text).toBe('hello');
    await expect(
      TestClient.connect(broker.tcpUrl, { ...v311, username: 'alice', password: 'wrong' }),
    ).rejects.toThrow(/bad user ?name or password/i);
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ msg: 'authentication failed', username: 'alice', why: 'wrong password' }),
    );
    expect(JSON.stringify(broker.logs)).not.toMatch(/alice-pw|"wrong"/); // passwords never logged
    expect(await broker.metric('fluxmq_authentications_total', 'result="failure"')).toBe(7);
  });

  it('refuse anonymous clients with 0x87 (5.0) or return code 5 (3.1.1), unless allowAnonymous', async () => {
    const closed = await startAuthBroker({ auth: { users: [alice()] } });
    expect(await connackOf(closed, 5, {})).toBe(0x87);
    expect(await connackOf(closed, 4, {})).toBe(5);
    await expect(TestClient.connect(closed.tcpUrl, v5)).rejects.toThrow(/not authorized/i);

    const open = await startAuthBroker({
      auth: { users: [alice()], allowAnonymous: true, acl: [{ effect: 'allow', topic: 'lobby/#' }] },
    });
    expect(await connackOf(open, 5, {})).toBe(0);
    expect(await connackOf(open, 4, {})).toBe(0);
    // Anonymous is not a free pass: credentials given must be right, and the ACL still applies.
    expect(await connackOf(open, 5, { username: 'alice', password: 'wrong' })).toBe(0x86);
    const anonymous = await TestClient.connect(open.tcpUrl, v5);
    await anonymous.subscribe('lobby/#', { qos: 0 });
    await expect(anonymous.subscribe('private/#', { qos: 0 })).rejects.toThrow(/not authorized/i);
  });

  it('log mosquitto_pub and mosquitto_sub in with -u/-P, and refuse a wrong password', async () => {
    const broker = await startAuthBroker({ auth: { users: [alice()], acl: [ownTopics] } });
    const login = ['-u', 'alice', '-P', 'alice-pw'];
    const sub = await startMosquittoSub(broker, ['-V', 'mqttv5', ...login, '-t', 'users/alice/#', '-C', '1']);
    const pub = await mosquittoPub(broker, [
      '-V',
      'mqttv311',
      ...login,
      '-q',
      '1',
      '-t',
      'users/alice/a',
      '-m',
      'x',
    ]);
    expect(pub.code).toBe(0);
    await sub.done();
    expect(sub.messages.map((m) => [m.topic, m.payload])).toEqual([['users/alice/a', 'x']]);

    for (const version of ['mqttv311', 'mqttv5']) {
      const refused = await mosquittoPub(broker, [
        '-V',
        version,
        '-u',
        'alice',
        '-P',
        'no',
        '-t',
        'x',
        '-m',
        'x',
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/bad user ?name or password/i);
    }
  });

  it('replaced at run time through server.auth.setUsers: new users log in, removed ones no longer do', async () => {
    const broker = await startAuthBroker({ auth: { users: [alice()], acl: [ownTopics] } });
    expect(await connackOf(broker, 5, { username: 'bob', password: 'bob-pw' })).toBe(0x86);
    broker.auth.setUsers([{ username: 'bob', passwordHash: bobHash }]);
    const bob = await TestClient.connect(broker.tcpUrl, { ...v5, username: 'bob', password: 'bob-pw' });
    await bob.subscribe('users/bob/#', { qos: 0 });
    broker.auth.setUsers([]);
    expect(await connackOf(broker, 5, { username: 'bob', password: 'bob-pw' })).toBe(0x86);
    expect(await connackOf(broker, 5, { username: 'alice', password: 'alice-pw' })).toBe(0); // from the file
  });
});

describe('the broker process', () => {
  it('reads users and ACL rules from its config file and counts denials on GET /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxmq-auth-'));
    const file = join(dir, 'fluxmq.yaml');
    writeFileSync(
      file,
      [
        'persistence: { enabled: false }',
        'auth:',
        '  enabled: true',
        `  users: [{ username: alice, passwordHash: "${aliceHash}" }]`,
        '  acl: [{ effect: allow, topic: "users/%u/#" }]',
      ].join('\n'),
    );
    let app: AppProcess | undefined;
    try {
      app = await startApp(['--config', file], LOCAL_PORTS);
      const url = `mqtt://127.0.0.1:${app.ports['tcp']}`;
      await expect(mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow(
        /not authorized/i,
      );
      const client = await mqtt.connectAsync(url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        username: 'alice',
        password: 'alice-pw',
      });
      await client.subscribeAsync('users/alice/#');
      await expect(client.subscribeAsync('users/bob/#')).rejects.toThrow(/not authorized/i);
      await client.endAsync();
      const metrics = await (await fetch(`http://127.0.0.1:${app.ports['http']}/metrics`)).text();
      expect(metrics).toContain('fluxmq_authorization_denials_total{action="subscribe"} 1');
      expect(metrics).toMatch(/fluxmq_connects_total\{result="refused",reason="not_authorized"\} 1/);
    } finally {
      await app?.stop();
    }
  });
});
