import { describe, expect, it } from 'vitest';
import { Message } from '../src/message';
import { MemoryRetainedStore } from '../src/retained-store';

const msg = (topic: string, payload: string, expiresAt = 0) =>
  new Message(topic, Buffer.from(payload), 1, true, undefined, 'c', expiresAt);

describe('MemoryRetainedStore', () => {
  it('sets, replaces and clears retained messages', () => {
    const store = new MemoryRetainedStore();
    store.set(msg('a/b', 'one'));
    store.set(msg('a/b', 'two'));
    expect(store.match('a/b', 0).map((m) => m.payload.toString())).toEqual(['two']);
    store.set(msg('a/b', ''));
    expect(store.match('a/b', 0)).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('matches wildcards, and leading wildcards skip $ topics', () => {
    const store = new MemoryRetainedStore();
    for (const t of ['a', 'a/b', 'a/b/c', 'x/b', '$SYS/up']) store.set(msg(t, t));
    const topics = (f: string) =>
      store
        .match(f, 0)
        .map((m) => m.topic)
        .sort();
    expect(topics('a/#')).toEqual(['a', 'a/b', 'a/b/c']);
    expect(topics('+/b')).toEqual(['a/b', 'x/b']);
    expect(topics('#')).toEqual(['a', 'a/b', 'a/b/c', 'x/b']);
    expect(topics('$SYS/#')).toEqual(['$SYS/up']);
  });

  it('drops expired messages when they are looked up', () => {
    const store = new MemoryRetainedStore();
    store.set(msg('t', 'x', 1000));
    expect(store.match('t', 999)).toHaveLength(1);
    expect(store.match('#', 1000)).toHaveLength(0);
    expect(store.size).toBe(0);
  });

  it('keeps its own copy of the payload, not the socket buffer', () => {
    const store = new MemoryRetainedStore();
    const wire = Buffer.from('payload');
    store.set(new Message('t', wire, 0, true, undefined, 'c', 0));
    wire.fill(0);
    expect(store.match('t', 0)[0].payload.toString()).toBe('payload');
  });
});
