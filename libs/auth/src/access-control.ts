import type { ClientInfo, Logger } from '@fluxmq/engine';
import {
  compileRules,
  decide,
  sortRules,
  type AclAction,
  type AclRule,
  type CompiledRule,
  type Decision,
} from './acl';
import { DecisionCache } from './decision-cache';
import type { HttpCallout, HttpVerdict } from './http-callout';

/** One connection's view: its own rules (from its login) and the prefixes of its cache keys. */
interface Connection {
  readonly rules: readonly CompiledRule[] | undefined;
  readonly publishKey: string;
  readonly subscribeKey: string;
}

/** No rule matched: the HTTP service decides if it authorizes, otherwise this denies. */
const NO_RULE: Decision = { allowed: false, rule: 'default deny' };
const HTTP_ALLOW: Decision = { allowed: true, rule: 'http' };
const HTTP_DENY: Decision = { allowed: false, rule: 'http' };
const HTTP_FAILED_OPEN: Decision = { allowed: true, rule: 'http call failed, fail open' };
const HTTP_FAILED_CLOSED: Decision = { allowed: false, rule: 'http call failed' };

/**
 * Authorization: the client's own rules first, then the configured and stored rules, first match wins;
 * when none matches, the HTTP service if it authorizes, otherwise deny. Rule decisions are cached per
 * connection, action and topic, and the cache is cleared whenever the rules change.
 */
export class AccessControl {
  private readonly configured: CompiledRule[];
  private rules: CompiledRule[];
  private readonly cache: DecisionCache<Decision>;
  // Per connection object, so a later connection with the same client id never sees this one's decisions.
  private readonly connections = new WeakMap<ClientInfo, Connection>();
  private serial = 0;

  constructor(
    configured: readonly AclRule[],
    cacheSize: number,
    private readonly logger: Logger,
    private readonly http: Pick<HttpCallout, 'authorizes' | 'authorize'> | undefined,
    private readonly failOpen: boolean,
  ) {
    this.configured = compileRules(configured, 'acl');
    this.rules = this.configured;
    this.cache = new DecisionCache(cacheSize);
  }

  /** Replaces the rules from elsewhere (the configured ones stay); throws, changing nothing, on a bad rule. */
  setRules(records: readonly AclRule[]): void {
    this.rules = sortRules([...this.configured, ...compileRules(records, 'rules')]);
    this.invalidate();
  }

  invalidate(): void {
    this.cache.clear();
  }

  /** A connection is up: from now on its own rules, if its login brought any, apply to it. */
  connected(client: ClientInfo, rules: readonly CompiledRule[] | undefined): Connection {
    const serial = ++this.serial;
    const connection = { rules, publishKey: `${serial}p`, subscribeKey: `${serial}s` };
    this.connections.set(client, connection);
    return connection;
  }

  check(
    client: ClientInfo,
    action: AclAction,
    topic: string,
    qos: number,
    retain: boolean,
  ): boolean | Promise<boolean> {
    const connection = this.connections.get(client) ?? this.connected(client, undefined);
    const key = (action === 'publish' ? connection.publishKey : connection.subscribeKey) + topic;
    let decision = this.cache.get(key);
    if (decision === undefined) {
      decision = this.decide(client, connection, action, topic);
      this.cache.set(key, decision);
    }
    if (decision.allowed) return true;
    if (decision !== NO_RULE || !this.http?.authorizes) return this.denied(client, action, topic, decision);
    const verdict = this.http.authorize(client, action, topic, qos, retain);
    return verdict instanceof Promise
      ? verdict.then((v) => this.httpDecision(client, action, topic, v))
      : this.httpDecision(client, action, topic, verdict);
  }

  private decide(client: ClientInfo, connection: Connection, action: AclAction, topic: string): Decision {
    // A shared subscription receives what its filter matches: `$share/{group}/{filter}` is `{filter}`.
    const shared = action === 'subscribe' && topic.startsWith('$share/') ? topic.indexOf('/', 7) : -1;
    const requested = (shared > 0 ? topic.slice(shared + 1) : topic).split('/');
    const own = connection.rules && decide(connection.rules, client, action, requested);
    return own ?? decide(this.rules, client, action, requested) ?? NO_RULE;
  }

  private httpDecision(client: ClientInfo, action: AclAction, topic: string, verdict: HttpVerdict): boolean {
    let decision = verdict === 'allow' ? HTTP_ALLOW : HTTP_DENY;
    if (verdict === 'failed') decision = this.failOpen ? HTTP_FAILED_OPEN : HTTP_FAILED_CLOSED;
    return decision.allowed || this.denied(client, action, topic, decision);
  }

  private denied(client: ClientInfo, action: AclAction, topic: string, decision: Decision): false {
    this.logger.info('authorization denied', {
      clientId: client.clientId,
      username: client.username,
      action,
      topic,
      rule: decision.rule,
    });
    return false;
  }
}
