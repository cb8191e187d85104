import type { ClientInfo, Logger } from '@fluxmq/engine';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CompiledRule, type AclRule } from '../src/acl';
import { AccessControl } from '../src/access-control';
import { parseClientAcl } from '../src/client-acl';
import { DecisionCache } from '../src/decision-cache';
import type { HttpVerdict } from '../src/http-callout';

function client(clientId: string, username?: string): ClientInfo {
  return { clientId, username, remoteAddress: '127.0.0.1', listener: 'tcp', protocolVersion: 5 };
}

function recordingLogger(): Logger & { lines: { msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const log = (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields });
  return { lines, debug: log, info: log, warn: log, error: log };
}

const rules: AclRule[] = [
  { effect: 'allow', topic: 'users/%u/#' },
  { effect: 'deny', topic: 'public/secret', id: 'no-secrets' },
  { effect: 'allow', topic: 'public/#', id: 'public' },
];

function control(
  options: { http?: (topic: string) => HttpVerdict | Promise<HttpVerdict>; failOpen?: boolean } = {},
) {
  const logger = recordingLogger();
  const http = options.http && {
    authorizes: true,
    authorize: (_c: ClientInfo, _a: string, topic: string) => options.http!(topic),
  };
  return { logger, access: new AccessControl(rules, 1000, logger, http, options.failOpen ?? false) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('access control', () => {
  it('allows what a rule allows and denies the rest, logging each denial with its rule', () => {
    const { access, logger } = control();
    const alice = client('c1', 'alice');
    expect(access.check(alice, 'publish', 'users/alice/x', 0, false)).toBe(true);
    expect(access.check(alice, 'subscribe', 'public/#', 0, false)).toBe(false); // overlaps public/secret
    expect(access.check(alice, 'publish', 'elsewhere', 1, false)).toBe(false);
    expect(logger.lines).toEqual([
      {
        msg: 'authorization denied',
        fields: {
          clientId: 'c1',
          username: 'alice',
          action: 'subscribe',
          topic: 'public/#',
          rule: 'no-secrets',
        },
      },
      {
        msg: 'authorization denied',
        fields: {
          clientId: 'c1',
          username: 'alice',
          action: 'publish',
          topic: 'elsewhere',
          rule: 'default deny',
        },
      },
    ]);
  });

  it('caches decisions per connection, and decides again once the rules change', () => {
    const { access } = control();
    const matches = vi.spyOn(CompiledRule.prototype, 'matches');
    const alice = client('c1', 'alice');
    expect(access.check(alice, 'publish', 'public/news', 0, false)).toBe(true);
    const evaluated = matches.mock.calls.length;
    for (let i = 0; i < 5; i++) expect(access.check(alice, 'publish', 'public/news', 0, false)).toBe(true);
    expect(matches.mock.calls.length).toBe(evaluated); // served from the cache

    access.setRules([{ effect: 'deny', topic: 'public/news', priority: 1, id: 'stored' }]);
    expect(access.check(alice, 'publish', 'public/news', 0, false)).toBe(false);
    access.setRules([]);
    expect(access.check(alice, 'publish', 'public/news', 0, false)).toBe(true); // configured rules stay
  });

  it('keeps decisions apart for connections that share a client id', () => {
    const { access } = control();
    const first = client('same', 'alice');
    const second = client('same', 'bob');
    expect(access.check(first, 'publish', 'users/alice/x', 0, false)).toBe(true);
    expect(access.check(second, 'publish', 'users/alice/x', 0, false)).toBe(false);
  });

  it('refuses a bad stored rule and keeps the current ones', () => {
    const { access } = control();
    expect(() => access.setRules([{ effect: 'allow', topic: '#/x' }])).toThrow('ACL rule rules[0]');
    expect(access.check(client('c', 'alice'), 'publish', 'public/x', 0, false)).toBe(true);
  });

  it("checks a connection's own rules (from its login) before the others", () => {
    const { access } = control();
    const bob = client('c2', 'bob');
    access.connected(
      bob,
      parseClientAcl([{ topic: 'tokens/#' }, { effect: 'deny', topic: 'public/#' }], 'jwt'),
    );
    expect(access.check(bob, 'publish', 'tokens/a', 0, false)).toBe(true);
    expect(access.check(bob, 'publish', 'public/news', 0, false)).toBe(false);
    expect(access.check(client('c3', 'carol'), 'publish', 'tokens/a', 0, false)).toBe(false);
  });

  it('authorizes a shared subscription by its filter', () => {
    const { access } = control();
    const alice = client('c1', 'alice');
    expect(access.check(alice, 'subscribe', '$share/g/users/alice/#', 0, false)).toBe(true);
    expect(access.check(alice, 'subscribe', '$share/g/users/bob/#', 0, false)).toBe(false);
  });

  it('asks the HTTP service when no rule decides, and applies fail closed or fail open', async () => {
    const asked: string[] = [];
    const verdicts: Record<string, HttpVerdict> = {
      'svc/yes': 'allow',
      'svc/no': 'deny',
      'svc/down': 'failed',
    };
    const http = (topic: string) => {
      asked.push(topic);
      return Promise.resolve(verdicts[topic]);
    };
    const closed = control({ http });
    const alice = client('c1', 'alice');
    expect(await closed.access.check(alice, 'publish', 'svc/yes', 0, false)).toBe(true);
    expect(await closed.access.check(alice, 'publish', 'svc/no', 0, false)).toBe(false);
    expect(await closed.access.check(alice, 'publish', 'svc/down', 0, false)).toBe(false);
    expect(closed.access.check(alice, 'publish', 'public/x', 0, false)).toBe(true); // a rule decided
    expect(closed.access.check(alice, 'publish', 'public/secret', 0, false)).toBe(false);
    expect(asked).toEqual(['svc/yes', 'svc/no', 'svc/down']);
    expect(closed.logger.lines.map((l) => l.fields?.['rule'])).toEqual([
      'http',
      'http call failed',
      'no-secrets',
    ]);

    const open = control({ http, failOpen: true });
    expect(await open.access.check(alice, 'publish', 'svc/down', 0, false)).toBe(true);
    expect(await open.access.check(alice, 'publish', 'svc/no', 0, false)).toBe(false);
  });
});

describe('decision cache', () => {
  it('holds at most its capacity and keeps entries that are used', () => {
    const cache = new DecisionCache<number>(4);
    cache.set('a', 1);
    cache.set('b', 2); // generation full: a, b become old
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1); // moved back to the young generation, which fills up again
    cache.set('d', 4);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(cache.get('a')).toBe(1);
    expect(cache.get('b')).toBe(undefined); // not used: dropped
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBeLessThanOrEqual(4);
    cache.clear();
    expect(cache.get('k99')).toBe(undefined);
  });
});
