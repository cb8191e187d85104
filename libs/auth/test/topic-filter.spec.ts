import { describe, expect, it } from 'vitest';
import { covers, intersects, topicFilterError } from '../src/topic-filter';

const levels = (filter: string) => filter.split('/');
const doesCover = (rule: string, requested: string) => covers(levels(rule), levels(requested));
const doesIntersect = (rule: string, requested: string) => intersects(levels(rule), levels(requested));

describe('a rule filter covering a requested topic or filter', () => {
  it.each([
    ['a/b', 'a/b'],
    ['a/+', 'a/b'],
    ['a/#', 'a'], // `#` includes the parent level
    ['a/#', 'a/b/c'],
    ['a/#', 'a/#'],
    ['a/#', 'a/+/c'],
    ['#', '+/x'],
    ['+/+', '+/b'],
    ['+/#', 'a'],
    ['$SYS/#', '$SYS/broker/uptime'],
    ['$SYS/+/uptime', '$SYS/broker/uptime'],
    ['a//b', 'a//b'],
  ])('%s covers %s', (rule, requested) => expect(doesCover(rule, requested)).toBe(true));

  it.each([
    ['a/b', 'a/c'],
    ['a/+', 'a/#'], // a/# also matches a/b/c
    ['a/+', 'a'],
    ['a/+', 'a/b/c'],
    ['a/b', 'a/+'],
    ['a/+/c', 'a/b'],
    ['a', 'a/b'],
    ['a/#', 'b'],
    ['#', '$SYS/broker/uptime'], // wildcard first levels never match `$` topics
    ['+/broker/uptime', '$SYS/broker/uptime'],
    ['#', '$SYS/#'],
    ['$SYS/#', '#'],
    ['a/b/#', 'a/#'],
  ])('%s does not cover %s', (rule, requested) => expect(doesCover(rule, requested)).toBe(false));
});

describe('a rule filter overlapping a requested filter', () => {
  it.each([
    ['a/secret', 'a/#'],
    ['a/secret', 'a/+'],
    ['a/+/x', 'a/b/+'],
    ['a/#', 'a'],
    ['a', 'a/#'],
    ['#', '#'],
    ['+', 'x'],
    ['$SYS/#', '$SYS/+'],
  ])('%s overlaps %s', (rule, requested) => expect(doesIntersect(rule, requested)).toBe(true));

  it.each([
    ['a/secret', 'a/public/#'],
    ['a/+', 'a'],
    ['a/b', 'a/b/c'],
    ['#', '$SYS/broker'],
    ['$SYS/#', '#'],
    ['+/x', '$SYS/x'],
    ['a/+/c', 'a/b/d'],
  ])('%s does not overlap %s', (rule, requested) => expect(doesIntersect(rule, requested)).toBe(false));
});

describe('topic filter syntax', () => {
  it('accepts filters and refuses misplaced wildcards', () => {
    for (const ok of ['a', 'a/+/b', '#', 'a/#', '+', '/a', 'users/%u/#'])
      expect(topicFilterError(ok)).toBe(undefined);
    expect(topicFilterError('')).toBe('empty topic filter');
    expect(topicFilterError('a/#/b')).toMatch(/not last/);
    expect(topicFilterError('a+')).toMatch(/inside a level/);
    expect(topicFilterError('a/b#')).toMatch(/inside a level/);
  });
});
