import { compileRules, type AclRule, type CompiledRule } from './acl';

/**
 * A client's own ACL, as a token claim or an HTTP answer carries it: `[{effect?, action?, topic,
 * priority?}]`, effect `allow` unless said otherwise. Conditions on username, client id or address make no
 * sense there (the rules belong to this one client) and are refused. Throws when malformed.
 */
export function parseClientAcl(value: unknown, source: string): CompiledRule[] {
  if (!Array.isArray(value)) throw new Error(`${source} ACL must be an array of rules`);
  const rules = value.map((entry: unknown, i): AclRule => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new Error(`${source} ACL rule ${i} must be an object`);
    }
    const { effect = 'allow', action, topic, priority, ...rest } = entry as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new Error(`${source} ACL rule ${i} has unknown keys: ${extra.join(', ')}`);
    return { effect, action, topic, priority } as AclRule; // checked by compileRules
  });
  return compileRules(rules, `${source}.acl`);
}
