// Topic filters compared level by level (a topic name is a filter without wildcards). As in subscriptions
// (spec 4.7.2), a wildcard first level never matches a topic starting with `$`: a rule on `#` does not open
// `$SYS/...`, which only rules written for `$` topics do.

/** The rule filter covers the requested one: every topic the request can match, the rule matches too. */
export function covers(rule: readonly string[], requested: readonly string[]): boolean {
  for (let i = 0; ; i++) {
    const r = rule[i];
    const q = requested[i];
    if (r === '#') return !(i === 0 && startsDollar(requested));
    if (r === undefined || q === undefined) return r === q;
    if (q === '#') return false;
    if (r === '+') {
      if (q !== '+' && i === 0 && q.startsWith('$')) return false;
      continue;
    }
    if (q === '+' || r !== q) return false;
  }
}

/** Some topic matches both filters: the rule applies to part of what the request can match. */
export function intersects(rule: readonly string[], requested: readonly string[]): boolean {
  for (let i = 0; ; i++) {
    const a = rule[i];
    const b = requested[i];
    if (a === '#' || b === '#') {
      const other = a === '#' ? requested : rule;
      return !(i === 0 && startsDollar(other));
    }
    if (a === undefined || b === undefined) return a === b;
    if (a === '+' || b === '+') {
      const literal = a === '+' ? b : a;
      if (i === 0 && literal !== '+' && literal.startsWith('$')) return false;
      continue;
    }
    if (a !== b) return false;
  }
}

function startsDollar(levels: readonly string[]): boolean {
  const first = levels[0];
  return first !== undefined && first.startsWith('$');
}

/** Why a string is not a topic filter, or undefined when it is one. */
export function topicFilterError(filter: string): string | undefined {
  if (filter.length === 0) return 'empty topic filter';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === '#' && i !== levels.length - 1) return `'#' not last in ${filter}`;
    if (level !== '#' && level !== '+' && (level.includes('#') || level.includes('+'))) {
      return `wildcard inside a level of ${filter}`;
    }
  }
  return undefined;
}
