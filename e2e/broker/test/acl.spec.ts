import type { AclRule } from '@fluxmq/auth';
import { describe, expect } from 'vitest';
import {
  fluxOnly,
  mosquittoPub,
  QUIET_MS,
  rawConnect,
  sleep,
  startMosquittoSub,
  TestClient,
  uniqueId,
  v311,
  v5,
} from './support';
import { startAuthBroker } from './support/auth-broker';

// ACL rules: what clients may publish and subscribe to, once authentication is on.
const it = fluxOnly('ACL rules are configured through FluxMQ itself');

const anonymousWith = (acl: AclRule[]) => ({ auth: { allowAnonymous: true, acl } });

describe('ACL', () => {
  it('SUBACK refuses each denied filter (0x87 in 5.0, 0x80 in 3.1.1) and grants the others of the same SUBSCRIBE', async () => {
    const broker = await startAuthBroker(
      anonymousWith([
        { effect: 'allow', action: 'subscribe', topic: 'public/#' },
        { effect: 'allow', topic: 'own/%c/#' },
      ]),
    );
    for (const [protocolVersion, refused] of [
      [5, 0x87],
      [4, 0x80],
    ] as const) {
      const clientId = uniqueId('sub');
      const { client } = await rawConnect(broker, { protocolVersion, clientId });
      const subscriptions = [
        { topic: 'public/#', qos: 1 as const },
        { topic: 'secret/#', qos: 1 as const },
        { topic: `own/${clientId}/#`, qos: 0 as const },
        { topic: '#', qos: 0 as const }, // wider than anything allowed
      ];
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions });
      expect((await client.next('suback')).granted).toEqual([1, refused, 0, refused]);
    }
    expect(await broker.metric('fluxmq_authorization_denials_total', 'action="subscribe"')).toBe(4);
    expect(broker.logs).toContainEqual(
      expect.objectContaining({
        msg: 'authorization denied',
        action: 'subscribe',
        topic: 'secret/#',
        rule: 'default deny',
      }),
    );
  });

  it('PUBACK 0x87 answers a denied 5.0 publish, which no subscriber receives', async () => {
    const broker = await startAuthBroker(
      anonymousWith([
        { effect: 'allow', action: 'subscribe', topic: 'feed/#' },
        { effect: 'allow', action: 'publish', topic: 'feed/open' },
      ]),
    );
    const subscriber = await TestClient.connect(broker.tcpUrl, v5);
    await subscriber.subscribe('feed/#', { qos: 1 });
    const publisher = await TestClient.connect(broker.tcpUrl, v5);
    await expect(publisher.publish('feed/closed', 'no', { qos: 1 })).rejects.toThrow(/not authorized/i);
    await publisher.publish('feed/open', 'yes', { qos: 1 });
    await subscriber.waitForMessage('feed/open');
    expect(subscriber.messagesOn('feed/closed')).toEqual([]);
    expect(await broker.metric('fluxmq_messages_dropped_total', 'reason="not_authorized"')).toBe(1);
  });

  it('3.1.1: a denied publish is acknowledged as usual, dropped and counted; no subscriber receives it', async () => {
    const broker = await startAuthBroker(
      anonymousWith([
        { effect: 'allow', action: 'subscribe', topic: 'feed/#' },
        { effect: 'allow', action: 'publish', topic: 'feed/open' },
      ]),
    );
    const subscriber = await TestClient.connect(broker.tcpUrl, v311);
    await subscriber.subscribe('feed/#', { qos: 1 });
    const publisher = await TestClient.connect(broker.tcpUrl, v311);
    await publisher.publish('feed/closed', 'qos1', { qos: 1 }); // PUBACK: 3.1.1 cannot say "refused"
    await publisher.publish('feed/closed', 'qos0', { qos: 0 });
    const cli = await mosquittoPub(broker, ['-V', 'mqttv311', '-q', '2', '-t', 'feed/closed', '-m', 'qos2']);
    expect(cli.code).toBe(0);
    await publisher.publish('feed/open', 'after', { qos: 1 });
    await subscriber.waitForMessage('feed/open');
    await sleep(QUIET_MS);
    expect(subscriber.messagesOn('feed/closed')).toEqual([]);
    expect(await broker.metric('fluxmq_messages_dropped_total', 'reason="not_authorized"')).toBe(3);
    expect(await broker.metric('fluxmq_authorization_denials_total', 'action="publish"')).toBe(3);
    expect(
      broker.logs.filter((l) => l.msg === 'authorization denied' && l['action'] === 'publish'),
    ).toHaveLength(3);
  });

  it('%u and %c give each client its own topics, for mosquitto_sub and mosquitto_pub too', async () => {
    const { hashPassword } = await import('@fluxmq/auth');
    const users = await Promise.all(
      ['alice', 'bob'].map(async (username) => ({
        username,
        passwordHash: await hashPassword(`${username}-pw`),
      })),
    );
    const broker = await startAuthBroker({
      auth: {
        users,
        acl: [
          { effect: 'allow', topic: 'users/%u/#' },
          { effect: 'allow', action: 'publish', topic: 'devices/%c/state' },
          { effect: 'allow', action: 'subscribe', topic: 'devices/+/state', username: 'alice' },
        ],
      },
    });
    const login = (user: string) => ['-u', user, '-P', `${user}-pw`];
    const states = await startMosquittoSub(broker, [
      '-V',
      'mqttv5',
      ...login('alice'),
      '-t',
      'devices/+/state',
      '-C',
      '1',
    ]);
    const inbox = await startMosquittoSub(broker, [
      '-V',
      'mqttv311',
      ...login('bob'),
      '-t',
      'users/bob/#',
      '-C',
      '1',
    ]);
    const send = (user: string, clientId: string, topic: string) =>
      mosquittoPub(broker, [
        '-V',
        'mqttv5',
        ...login(user),
        '-i',
        clientId,
        '-q',
        '1',
        '-t',
        topic,
        '-m',
        `${clientId}`,
      ]);

    await send('bob', 'dev-7', 'devices/dev-8/state'); // not its client id: refused
    await send('bob', 'dev-7', 'users/alice/inbox'); // not its username: refused
    await send('bob', 'dev-7', 'devices/dev-7/state');
    await send('alice', 'alice-1', 'users/bob/inbox'); // not her username: refused
    await send('bob', 'bob-1', 'users/bob/inbox');
    expect((await states.done()).code).toBe(0);
    expect((await inbox.done()).code).toBe(0);
    expect(states.messages.map((m) => [m.topic, m.payload])).toEqual([['devices/dev-7/state', 'dev-7']]);
    expect(inbox.messages.map((m) => [m.topic, m.payload])).toEqual([['users/bob/inbox', 'bob-1']]);
  });

  it('rules replaced through server.auth.setRules apply at once to connected clients', async () => {
    const broker = await startAuthBroker(anonymousWith([{ effect: 'allow', topic: 'base/#' }]));
    const client = await TestClient.connect(broker.tcpUrl, v5);
    await client.subscribe('base/#', { qos: 1 });
    await expect(client.publish('extra/x', 'no', { qos: 1 })).rejects.toThrow(/not authorized/i);
    broker.auth.setRules([
      { id: 'stored-extra', effect: 'allow', topic: 'extra/#' },
      { id: 'stored-no-base', effect: 'deny', action: 'publish', topic: 'base/#', priority: 1 },
    ]);
    await client.publish('extra/x', 'yes', { qos: 1 }); // the cached denial is gone
    await expect(client.publish('base/x', 'now denied', { qos: 1 })).rejects.toThrow(/not authorized/i);
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ msg: 'authorization denied', topic: 'base/x', rule: 'stored-no-base' }),
    );
    broker.auth.setRules([]);
    await expect(client.publish('extra/x', 'gone', { qos: 1 })).rejects.toThrow(/not authorized/i);
    await client.publish('base/x', 'back', { qos: 1 });
    await client.waitForMessage('base/x');
  });

  it('an IPv4 range matches a client seen as ::ffff:127.0.0.1 on a dual-stack listener', async () => {
    const broker = await startAuthBroker({
      listeners: { tcp: { host: '::' } },
      ...anonymousWith([
        { effect: 'allow', topic: 'local/#', ipRange: '127.0.0.0/8' },
        { effect: 'allow', topic: 'remote/#', ipRange: '10.0.0.0/8' },
      ]),
    });
    const client = await TestClient.connect(broker.tcpUrl, v5); // to 127.0.0.1 on an IPv6 socket
    expect([...broker.server.broker.clients].map((c) => c.remoteAddress)).toEqual(['::ffff:127.0.0.1']);
    await client.subscribe('local/#', { qos: 1 });
    await expect(client.subscribe('remote/#', { qos: 1 })).rejects.toThrow(/not authorized/i);
  });
});
