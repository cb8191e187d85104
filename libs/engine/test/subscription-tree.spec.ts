import { describe, expect, it } from 'vitest';
import type { Session } from '../src/session';
import { SubscriptionTree, type SubscriptionEntry } from '../src/subscription-tree';
import { topicMatches } from '../src/topics';

function session(id: string, online = true): Session {
  return { clientId: id, client: online ? {} : null, canTakeMore: () => online } as unknown as Session;
}

function entry(s: Session, rawFilter: string, group?: string): SubscriptionEntry {
  const filter = group ? rawFilter.split('/').slice(2).join('/') : rawFilter;
  return {
    session: s,
    rawFilter,
    filter,
    group,
    qos: 1,
    noLocal: false,
    retainAsPublished: false,
    retainHandling: 0,
    identifier: undefined,
    identifiers: undefined,
  };
}

const FILTERS = ['#', '+', 'a/#', 'a/+', 'a/b', '+/b', 'a/+/c', '/#', '+/+', '$SYS/#', '$SYS/+', 'a/b/c/#'];
const TOPICS = ['a', 'a/b', 'b/b', 'a/b/c', 'a/x/c', '/a', '$SYS/x', '$SYS', 'a/b/c/d', '/'];

describe('SubscriptionTree', () => {
  it('matches exactly what topicMatches says, for every filter and topic pair', () => {
    const tree = new SubscriptionTree();
    const sessions = FILTERS.map((f) => {
      const s = session(f);
      tree.add(entry(s, f));
      return s;
    });
    for (const topic of TOPICS) {
      const got = tree
        .match(topic)
        .direct.map((m) => m.session.clientId)
        .sort();
      const expected = FILTERS.filter((f) => topicMatches(f, topic)).sort();
      expect(got, topic).toEqual(expected);
    }
    expect(tree.size).toBe(sessions.length);
  });

  it('gathers one session’s overlapping filters into one match', () => {
    const tree = new SubscriptionTree();
    const s = session('s');
    tree.add(entry(s, 'a/#'));
    tree.add(entry(s, 'a/+'));
    const { direct } = tree.match('a/b');
    expect(direct).toHaveLength(1);
    expect(direct[0].entries.map((e) => e.filter).sort()).toEqual(['a/#', 'a/+']);
  });

  it('forgets cached matches when subscriptions change, and prunes empty branches', () => {
    const tree = new SubscriptionTree();
    const s = session('s');
    expect(tree.match('a/b').direct).toHaveLength(0);
    const e = entry(s, 'a/b');
    tree.add(e);
    expect(tree.match('a/b').direct).toHaveLength(1);
    tree.remove(e);
    expect(tree.match('a/b').direct).toHaveLength(0);
    expect(tree.size).toBe(0);
    expect((tree as unknown as { root: { children?: Map<string, unknown> } }).root.children?.size ?? 0).toBe(
      0,
    );
  });

  it('puts shared members in one group and picks them in turn, skipping those that cannot take more', () => {
    const tree = new SubscriptionTree();
    const a = session('a');
    const b = session('b');
    const c = session('c', false);
    tree.add(entry(a, '$share/g/t/+', 'g'));
    tree.add(entry(b, '$share/g/t/+', 'g'));
    tree.add(entry(c, '$share/g/t/+', 'g'));
    tree.add(entry(a, '$share/h/t/+', 'h'));
    const { groups, direct } = tree.match('t/1');
    expect(direct).toHaveLength(0);
    expect(groups.map((g) => g.name).sort()).toEqual(['g', 'h']);
    const g = groups.find((x) => x.name === 'g')!;
    const picks = [g.pick(), g.pick(), g.pick(), g.pick()].map((m) => m!.session.clientId);
    expect(picks).toEqual(['a', 'b', 'a', 'b']);
    expect(g.pick(a)!.session.clientId).toBe('b');
    expect(tree.sharedGroupCount).toBe(2);
  });
});
