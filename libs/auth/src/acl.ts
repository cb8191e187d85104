import { IpRange } from './ip-range';
import { covers, intersects, topicFilterError } from './topic-filter';

export type AclAction = 'publish' | 'subscribe';

/** One ACL rule as configured or stored: a plain record, compiled once by `compileRules`. */
export interface AclRule {
  /** Shown in denial logs; a default is made from the rule's position. */
  readonly id?: string;
  readonly effect: 'allow' | 'deny';
  readonly action?: AclAction | 'all';
  /** Topic filter; `%u` and `%c` stand for the client's username and client id. */
  readonly topic: string;
  readonly username?: string;
  readonly clientId?: string;
  /** An address or CIDR range, IPv4 or IPv6. */
  readonly ipRange?: string;
  /** Higher first. */
  readonly priority?: number;
}

/** Who asks: what rules can be conditioned on. */
export interface AclSubject {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
}

/** The outcome of a matching rule. One object per rule, so deciding allocates nothing. */
export interface Decision {
  readonly allowed: boolean;
  readonly rule: string;
}

const PLACEHOLDER = /%[uc]/g;
const ACTIONS: readonly unknown[] = ['publish', 'subscribe', 'all', undefined];

/** Records may come from JSON (a token, an HTTP answer, a store): check what the types cannot. */
function ruleError(rule: AclRule): string | undefined {
  if (typeof rule.topic !== 'string') return 'topic must be a string';
  if (rule.effect !== 'allow' && rule.effect !== 'deny') return 'effect must be allow or deny';
  if (!ACTIONS.includes(rule.action)) return 'action must be publish, subscribe or all';
  if (rule.priority !== undefined && !Number.isInteger(rule.priority)) return 'priority must be an integer';
  for (const key of ['username', 'clientId', 'ipRange'] as const) {
    if (rule[key] !== undefined && typeof rule[key] !== 'string') return `${key} must be a string`;
  }
  return topicFilterError(rule.topic);
}

export class CompiledRule {
  readonly decision: Decision;
  readonly priority: number;
  private readonly action: AclAction | 'all';
  private readonly levels: readonly string[];
  private readonly hasPlaceholders: boolean;
  private readonly ipRange: IpRange | undefined;
  private readonly username: string | undefined;
  private readonly clientId: string | undefined;

  constructor(rule: AclRule, id: string) {
    const error = ruleError(rule);
    if (error) throw new Error(`ACL rule ${id}: ${error}`);
    this.decision = { allowed: rule.effect === 'allow', rule: id };
    this.username = rule.username;
    this.clientId = rule.clientId;
    this.priority = rule.priority ?? 0;
    this.action = rule.action ?? 'all';
    this.levels = rule.topic.split('/');
    this.hasPlaceholders = rule.topic.includes('%u') || rule.topic.includes('%c');
    try {
      this.ipRange = rule.ipRange === undefined ? undefined : new IpRange(rule.ipRange);
    } catch (err) {
      throw new Error(`ACL rule ${id}: ${(err as Error).message}`);
    }
  }

  /**
   * Whether the rule decides this request. An allow rule must cover all the request can match; a deny
   * rule applies as soon as it overlaps it, so a subscription cannot reach a denied topic through a
   * wildcard.
   */
  matches(subject: AclSubject, action: AclAction, requested: readonly string[]): boolean {
    if (this.action !== 'all' && this.action !== action) return false;
    if (this.username !== undefined && subject.username !== this.username) return false;
    if (this.clientId !== undefined && subject.clientId !== this.clientId) return false;
    if (this.ipRange && !this.ipRange.contains(subject.remoteAddress)) return false;
    const levels = this.hasPlaceholders ? this.fill(subject) : this.levels;
    if (levels === undefined) return false;
    return this.decision.allowed ? covers(levels, requested) : intersects(levels, requested);
  }

  /**
   * The filter with `%u`/`%c` replaced, or undefined when a value is missing or would change the filter's
   * shape: a username `#` must not turn `users/%u/#` into `users/#/#`.
   */
  private fill(subject: AclSubject): string[] | undefined {
    let unfillable = false;
    const levels = this.levels.map((level, i) =>
      level.replace(PLACEHOLDER, (placeholder) => {
        const value = placeholder === '%u' ? subject.username : subject.clientId;
        if (!value || /[/+#]/.test(value) || (i === 0 && value.startsWith('$'))) unfillable = true;
        return value ?? '';
      }),
    );
    return unfillable ? undefined : levels;
  }
}

/**
 * Compiles rules and orders them for first-match evaluation: higher priority first, at equal priority
 * deny before allow, then in the given order (the sort is stable).
 */
export function compileRules(rules: readonly AclRule[], idPrefix: string): CompiledRule[] {
  const compiled = rules.map((rule, i) => new CompiledRule(rule, rule.id ?? `${idPrefix}[${i}]`));
  return sortRules(compiled);
}

export function sortRules(rules: CompiledRule[]): CompiledRule[] {
  return rules.sort(
    (a, b) => b.priority - a.priority || Number(a.decision.allowed) - Number(b.decision.allowed),
  );
}

/** The first rule that decides the request, or undefined when none does. */
export function decide(
  rules: readonly CompiledRule[],
  subject: AclSubject,
  action: AclAction,
  requested: readonly string[],
): Decision | undefined {
  for (const rule of rules) if (rule.matches(subject, action, requested)) return rule.decision;
  return undefined;
}
