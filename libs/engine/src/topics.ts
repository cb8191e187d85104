import { utf8Length } from '@fluxmq/codec';

// Topic names and filters (spec 4.7). Validation lives here so every entry point (PUBLISH, SUBSCRIBE, wills,
// the admin API later) applies the same rules.

export interface TopicLimits {
  maxTopicLength: number;
  maxTopicLevels: number;
}

/** Why a topic name is invalid, or null when it is valid. */
export function topicNameError(topic: string, limits: TopicLimits): string | null {
  if (topic.length === 0) return 'topic is empty';
  if (longerThan(topic, limits.maxTopicLength)) return `topic longer than ${limits.maxTopicLength} bytes`;
  if (topic.includes('+') || topic.includes('#')) return 'topic contains a wildcard';
  if (countLevels(topic) > limits.maxTopicLevels)
    return `topic has more than ${limits.maxTopicLevels} levels`;
  return null;
}

/** Why a topic filter is invalid, or null when it is valid. */
export function topicFilterError(filter: string, limits: TopicLimits): string | null {
  if (filter.length === 0) return 'filter is empty';
  if (longerThan(filter, limits.maxTopicLength)) return `filter longer than ${limits.maxTopicLength} bytes`;
  const levels = filter.split('/');
  if (levels.length > limits.maxTopicLevels) return `filter has more than ${limits.maxTopicLevels} levels`;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return '# must be a whole level and the last one';
    }
    if (level.includes('+') && level !== '+') return '+ must be a whole level';
  }
  return null;
}

/**
 * Whether `topic` takes more than `maxBytes` in UTF-8. Checked for every PUBLISH: a UTF-16 unit is at most 3
 * bytes, so a topic of up to a third of the limit in units, which is nearly every topic, is not counted.
 */
function longerThan(topic: string, maxBytes: number): boolean {
  return topic.length * 3 > maxBytes && utf8Length(topic) > maxBytes;
}

export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

function countLevels(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47 /* / */) n++;
  return n;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/**
 * Splits `$share/{group}/{filter}`; returns null for an ordinary filter and a string error when the
 * shared form is malformed (spec 4.8.2: the group name has no wildcards and the filter is not empty).
 */
export function parseSharedFilter(filter: string): SharedFilter | string | null {
  if (!filter.startsWith('$share/')) return null;
  const slash = filter.indexOf('/', 7);
  if (slash < 0) return 'shared subscription needs $share/{group}/{filter}';
  const group = filter.slice(7, slash);
  const inner = filter.slice(slash + 1);
  if (group.length === 0 || hasWildcard(group))
    return 'shared subscription group name is empty or has a wildcard';
  if (inner.length === 0) return 'shared subscription has an empty filter';
  return { group, filter: inner };
}

/** Whether `topic` matches `filter` (spec 4.7.1/4.7.2: leading wildcards never match `$` topics). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
