import { describe, expect, it } from 'vitest';
import { compileRules, decide, type AclAction, type AclRule, type AclSubject } from '../src/acl';

const alice: AclSubject = { clientId: 'sensor-1', username: 'alice', remoteAddress: '10.1.2.3' };

function decision(rules: AclRule[], subject: AclSubject, action: AclAction, topic: string) {
  return decide(compileRules(rules, 'acl'), subject, action, topic.split('/'))?.rule;
}

describe('ACL rules', () => {
  it('fill %u and %c with the username and client id', () => {
    const rules: AclRule[] = [
      { effect: 'allow', topic: 'users/%u/#' },
      { effect: 'allow', topic: 'devices/%c/state', action: 'publish' },
      { effect: 'allow', topic: 'mixed/%u-%c' },
    ];
    expect(decision(rules, alice, 'publish', 'users/alice/inbox')).toBe('acl[0]');
    expect(decision(rules, alice, 'subscribe', 'users/alice/#')).toBe('acl[0]');
    expect(decision(rules, alice, 'publish', 'users/bob/inbox')).toBe(undefined);
    expect(decision(rules, alice, 'publish', 'devices/sensor-1/state')).toBe('acl[1]');
    expect(decision(rules, alice, 'publish', 'devices/sensor-2/state')).toBe(undefined);
    expect(decision(rules, alice, 'publish', 'mixed/alice-sensor-1')).toBe('acl[2]');
  });

  it('never match through a placeholder that cannot be filled or would change the filter', () => {
    const rules: AclRule[] = [{ effect: 'allow', topic: 'users/%u/#' }];
    const anonymous = { ...alice, username: undefined };
    expect(decision(rules, anonymous, 'publish', 'users//x')).toBe(undefined);
    expect(decision(rules, { ...alice, username: '' }, 'publish', 'users//x')).toBe(undefined);
    // A username `#` or `+` or with `/` must not widen the rule to other users' topics.
    expect(decision(rules, { ...alice, username: '#' }, 'subscribe', 'users/#')).toBe(undefined);
    expect(decision(rules, { ...alice, username: '+' }, 'subscribe', 'users/+/x')).toBe(undefined);
    expect(decision(rules, { ...alice, username: 'bob/x' }, 'publish', 'users/bob/x/y')).toBe(undefined);
    // Nor may a client id starting with `$` reach `$SYS` through a placeholder in the first level.
    const first: AclRule[] = [{ effect: 'allow', topic: '%c/#' }];
    expect(decision(first, { ...alice, clientId: '$SYS' }, 'subscribe', '$SYS/#')).toBe(undefined);
    expect(decision(first, alice, 'subscribe', 'sensor-1/#')).toBe('acl[0]');
  });

  it('are checked by priority, deny before allow at equal priority, then in order', () => {
    const rules: AclRule[] = [
      { effect: 'allow', topic: 'a/#', id: 'allow-low' },
      { effect: 'allow', topic: 'a/b', id: 'allow-high', priority: 10 },
      { effect: 'deny', topic: 'a/b', id: 'deny-high', priority: 10 },
      { effect: 'deny', topic: 'a/c', id: 'deny-low' },
      { effect: 'allow', topic: 'a/c', id: 'allow-higher', priority: 1 },
    ];
    expect(decision(rules, alice, 'publish', 'a/b')).toBe('deny-high');
    expect(decision(rules, alice, 'publish', 'a/c')).toBe('allow-higher');
    expect(decision(rules, alice, 'publish', 'a/d')).toBe('allow-low');
    const sameLevel: AclRule[] = [
      { effect: 'allow', topic: 'x', id: 'first' },
      { effect: 'deny', topic: 'x', id: 'deny' },
      { effect: 'allow', topic: '#', id: 'second' },
    ];
    expect(decision(sameLevel, alice, 'publish', 'x')).toBe('deny');
    expect(decision(sameLevel.slice(0, 1).concat(sameLevel.slice(2)), alice, 'publish', 'x')).toBe('first');
  });

  it('apply to one action, or both', () => {
    const rules: AclRule[] = [
      { effect: 'allow', action: 'publish', topic: 'p' },
      { effect: 'allow', action: 'subscribe', topic: 's' },
      { effect: 'allow', topic: 'both' },
    ];
    expect(decision(rules, alice, 'publish', 'p')).toBe('acl[0]');
    expect(decision(rules, alice, 'subscribe', 'p')).toBe(undefined);
    expect(decision(rules, alice, 'subscribe', 's')).toBe('acl[1]');
    expect(decision(rules, alice, 'publish', 's')).toBe(undefined);
    expect(decision(rules, alice, 'publish', 'both')).toBe('acl[2]');
    expect(decision(rules, alice, 'subscribe', 'both')).toBe('acl[2]');
  });

  it('apply only to the username and client id they name', () => {
    const rules: AclRule[] = [
      { effect: 'allow', topic: 'u', username: 'alice' },
      { effect: 'allow', topic: 'c', clientId: 'sensor-1' },
    ];
    expect(decision(rules, alice, 'publish', 'u')).toBe('acl[0]');
    expect(decision(rules, { ...alice, username: 'bob' }, 'publish', 'u')).toBe(undefined);
    expect(decision(rules, { ...alice, username: undefined }, 'publish', 'u')).toBe(undefined);
    expect(decision(rules, alice, 'publish', 'c')).toBe('acl[1]');
    expect(decision(rules, { ...alice, clientId: 'sensor-2' }, 'publish', 'c')).toBe(undefined);
  });

  it('apply only to clients from their address range, IPv4, IPv6 and IPv4-mapped IPv6 alike', () => {
    const rules: AclRule[] = [
      { effect: 'allow', topic: 'v4', ipRange: '10.0.0.0/8' },
      { effect: 'allow', topic: 'v6', ipRange: 'fd00::/8' },
      { effect: 'allow', topic: 'one', ipRange: '127.0.0.1' },
      { effect: 'allow', topic: 'mapped', ipRange: '::ffff:192.168.0.0/112' },
    ];
    const from = (remoteAddress: string) => ({ ...alice, remoteAddress });
    expect(decision(rules, from('10.200.0.1'), 'publish', 'v4')).toBe('acl[0]');
    expect(decision(rules, from('::ffff:10.200.0.1'), 'publish', 'v4')).toBe('acl[0]');
    expect(decision(rules, from('11.0.0.1'), 'publish', 'v4')).toBe(undefined);
    expect(decision(rules, from('fd12:3456::1'), 'publish', 'v6')).toBe('acl[1]');
    expect(decision(rules, from('fe80::1'), 'publish', 'v6')).toBe(undefined);
    expect(decision(rules, from('::ffff:127.0.0.1'), 'publish', 'one')).toBe('acl[2]');
    expect(decision(rules, from('127.0.0.2'), 'publish', 'one')).toBe(undefined);
    expect(decision(rules, from('192.168.7.7'), 'publish', 'mapped')).toBe('acl[3]');
    expect(decision(rules, from(''), 'publish', 'v4')).toBe(undefined);
  });

  it('deny a subscription that could receive a denied topic, allow one only if fully covered', () => {
    const rules: AclRule[] = [
      { effect: 'deny', topic: 'a/secret', id: 'secret' },
      { effect: 'allow', topic: 'a/#', id: 'a' },
      { effect: 'allow', topic: 'b/x', id: 'bx' },
      { effect: 'allow', topic: 'b/y', id: 'by' },
    ];
    expect(decision(rules, alice, 'subscribe', 'a/#')).toBe('secret');
    expect(decision(rules, alice, 'subscribe', 'a/+')).toBe('secret');
    expect(decision(rules, alice, 'subscribe', 'a/public/#')).toBe('a');
    expect(decision(rules, alice, 'publish', 'a/public')).toBe('a');
    // Two rules together covering b/+ partly are not one rule covering it.
    expect(decision(rules, alice, 'subscribe', 'b/+')).toBe(undefined);
  });

  it('refuse malformed rules, naming them', () => {
    expect(() => compileRules([{ effect: 'allow', topic: 'a/#/b' }], 'acl')).toThrow('ACL rule acl[0]');
    expect(() =>
      compileRules([{ effect: 'allow', topic: '#', ipRange: '10.0.0.0/40', id: 'x' }], 'acl'),
    ).toThrow('ACL rule x: not an IP address or CIDR range');
    const untyped = [{ effect: 'permit', topic: '#' }] as unknown as AclRule[];
    expect(() => compileRules(untyped, 'acl')).toThrow('effect must be allow or deny');
    const badAction = [{ effect: 'allow', action: 'read', topic: '#' }] as unknown as AclRule[];
    expect(() => compileRules(badAction, 'acl')).toThrow('action must be');
  });
});
