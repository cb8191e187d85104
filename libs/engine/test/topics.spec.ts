import { describe, expect, it } from 'vitest';
import { parseSharedFilter, topicFilterError, topicMatches, topicNameError } from '../src/topics';

const limits = { maxTopicLength: 64, maxTopicLevels: 4 };

describe('topic validation', () => {
  it.each(['a', 'a/b', '/', 'a//b', '$SYS/x', 'a b'])('accepts topic %j', (t) => {
    expect(topicNameError(t, limits)).toBeNull();
  });
  it.each([
    ['', 'empty'],
    ['a/+', 'wildcard'],
    ['a/#', 'wildcard'],
    ['a/b/c/d/e', 'levels'],
    ['x'.repeat(65), 'longer'],
  ])('refuses topic %j (%s)', (t, why) => {
    expect(topicNameError(t, limits)).toContain(why);
  });
  // The limit is in UTF-8 bytes, not characters: 21 three-byte characters are 63 bytes, 22 are 66.
  it.each([
    ['温'.repeat(21), null],
    ['温'.repeat(22), 'longer'],
    ['é'.repeat(32), null],
    ['é'.repeat(33), 'longer'],
    ['😀'.repeat(16), null],
    ['😀'.repeat(16) + 'x', 'longer'],
    ['x'.repeat(64), null],
  ])('counts topic %j in bytes', (t, why) => {
    const error = topicNameError(t, limits);
    if (why === null) expect(error).toBeNull();
    else expect(error).toContain(why);
    expect(topicFilterError(t, limits) === null).toBe(why === null);
  });
  it.each(['#', '+', 'a/+/b', 'a/#', '+/+', '/#', '$share/g/a'])('accepts filter %j', (f) => {
    expect(topicFilterError(f, limits)).toBeNull();
  });
  it.each(['', 'a/#/b', 'a+', '#a', 'a/b#', '+a/b', 'a/b/c/d/e'])('refuses filter %j', (f) => {
    expect(topicFilterError(f, limits)).not.toBeNull();
  });
});

describe('shared filters', () => {
  it('splits group and filter', () => {
    expect(parseSharedFilter('$share/g1/a/+/b')).toEqual({ group: 'g1', filter: 'a/+/b' });
    expect(parseSharedFilter('a/b')).toBeNull();
  });
  it.each(['$share/g', '$share//a', '$share/g+/a', '$share/g/'])('refuses %j', (f) => {
    expect(typeof parseSharedFilter(f)).toBe('string');
  });
});

describe('topicMatches', () => {
  it.each([
    ['sport/#', 'sport', true],
    ['sport/#', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', '$SYS/broker', false],
    ['+/monitor', '$SYS/monitor', false],
    ['$SYS/#', '$SYS/broker', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ])('%s ~ %s = %s', (f, t, expected) => {
    expect(topicMatches(f, t)).toBe(expected);
  });
});
