import type { QoS } from '@fluxmq/codec';
import type { Session } from './session';
import { parseSharedFilter } from './topics';

/** One session's subscription to one filter; shared subscriptions carry their group. */
export interface SubscriptionEntry {
  readonly session: Session;
  /** The filter as the client sent it (with `$share/{group}/` when shared). */
  readonly rawFilter: string;
  /** The filter topics are matched against. */
  readonly filter: string;
  readonly group: string | undefined;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  identifier: number | undefined;
  /** `[identifier]`, made once so that deliveries need not allocate it. */
  identifiers: number[] | undefined;
}

export interface SubscriptionOptions {
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  identifier: number | undefined;
}

/** The entry for a filter already checked valid: `$share/{group}/` is split off here. */
export function subscriptionEntry(
  session: Session,
  rawFilter: string,
  options: SubscriptionOptions,
): SubscriptionEntry {
  const shared = parseSharedFilter(rawFilter);
  const isShared = shared !== null && typeof shared === 'object';
  return {
    session,
    rawFilter,
    filter: isShared ? shared.filter : rawFilter,
    group: isShared ? shared.group : undefined,
    ...options,
    identifiers: options.identifier === undefined ? undefined : [options.identifier],
  };
}

/** Members of `$share/{name}/{filter}`; each message goes to one of them, in turn. */
export class SharedGroup {
  readonly members: SubscriptionEntry[] = [];
  private next = 0;

  constructor(
    readonly name: string,
    readonly filter: string,
  ) {}

  /** Round-robin over members that can take a message now, then over online ones, then over any. */
  pick(exclude?: Session): SubscriptionEntry | undefined {
    const n = this.members.length;
    let online: SubscriptionEntry | undefined;
    let any: SubscriptionEntry | undefined;
    for (let k = 0; k < n; k++) {
      const idx = (this.next + k) % n;
      const m = this.members[idx];
      if (m.session === exclude) continue;
      if (m.session.canTakeMore()) {
        this.next = idx + 1;
        return m;
      }
      if (!online && m.session.client) online = m;
      if (!any) any = m;
    }
    const chosen = online ?? any;
    if (chosen) this.next = this.members.indexOf(chosen) + 1;
    return chosen;
  }
}

export interface DirectMatch {
  session: Session;
  /** Usually one; several when a client's filters overlap (spec 3.3.4: one copy at the highest QoS). */
  entries: SubscriptionEntry[];
}

export interface MatchResult {
  direct: DirectMatch[];
  groups: SharedGroup[];
}

class TreeNode {
  children: Map<string, TreeNode> | undefined;
  subs: Map<Session, SubscriptionEntry> | undefined;
  groups: Map<string, SharedGroup> | undefined;

  isEmpty(): boolean {
    return !this.children?.size && !this.subs?.size && !this.groups?.size;
  }
}

const EMPTY: MatchResult = { direct: [], groups: [] };
const CACHE_LIMIT = 8192;

/**
 * Subscription trie with a match cache (after NATS's sublist): publishers usually repeat topics, so a
 * topic's match list is computed once and reused until any subscription changes.
 */
export class SubscriptionTree {
  private readonly root = new TreeNode();
  private readonly cache = new Map<string, MatchResult>();
  private entryCount = 0;
  private groupCount = 0;

  get size(): number {
    return this.entryCount;
  }

  get sharedGroupCount(): number {
    return this.groupCount;
  }

  add(entry: SubscriptionEntry): void {
    const node = this.nodeFor(entry.filter, true)!;
    if (entry.group === undefined) {
      node.subs ??= new Map();
      if (!node.subs.has(entry.session)) this.entryCount++;
      node.subs.set(entry.session, entry);
    } else {
      node.groups ??= new Map();
      let group = node.groups.get(entry.group);
      if (!group) {
        group = new SharedGroup(entry.group, entry.filter);
        node.groups.set(entry.group, group);
        this.groupCount++;
      }
      const at = group.members.findIndex((m) => m.session === entry.session);
      if (at >= 0) group.members[at] = entry;
      else {
        group.members.push(entry);
        this.entryCount++;
      }
    }
    this.cache.clear();
  }

  remove(entry: SubscriptionEntry): void {
    const path: TreeNode[] = [];
    const node = this.nodeFor(entry.filter, false, path);
    if (!node) return;
    if (entry.group === undefined) {
      if (node.subs?.get(entry.session) === entry) {
        node.subs.delete(entry.session);
        this.entryCount--;
      }
    } else {
      const group = node.groups?.get(entry.group);
      const at = group ? group.members.indexOf(entry) : -1;
      if (group && at >= 0) {
        group.members.splice(at, 1);
        this.entryCount--;
        if (group.members.length === 0) {
          node.groups!.delete(entry.group);
          this.groupCount--;
        }
      }
    }
    this.prune(entry.filter, path);
    this.cache.clear();
  }

  match(topic: string): MatchResult {
    const cached = this.cache.get(topic);
    if (cached) return cached;
    const direct = new Map<Session, DirectMatch>();
    const groups: SharedGroup[] = [];
    const levels = topic.split('/');
    this.walk(this.root, levels, 0, topic.charCodeAt(0) === 36 /* $ */, direct, groups);
    const result =
      direct.size === 0 && groups.length === 0 ? EMPTY : { direct: [...direct.values()], groups };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(topic, result);
    return result;
  }

  private walk(
    node: TreeNode,
    levels: string[],
    i: number,
    dollar: boolean,
    direct: Map<Session, DirectMatch>,
    groups: SharedGroup[],
  ): void {
    const children = node.children;
    if (i === levels.length) {
      collect(node, direct, groups);
      // `a/#` also matches `a` (spec 4.7.1.2).
      const hash = children?.get('#');
      if (hash) collect(hash, direct, groups);
      return;
    }
    if (!children) return;
    const wild = !(i === 0 && dollar);
    if (wild) {
      const hash = children.get('#');
      if (hash) collect(hash, direct, groups);
      const plus = children.get('+');
      if (plus) this.walk(plus, levels, i + 1, dollar, direct, groups);
    }
    const exact = children.get(levels[i]);
    if (exact) this.walk(exact, levels, i + 1, dollar, direct, groups);
  }

  private nodeFor(filter: string, create: boolean, path?: TreeNode[]): TreeNode | undefined {
    let node = this.root;
    for (const level of filter.split('/')) {
      path?.push(node);
      let next = node.children?.get(level);
      if (!next) {
        if (!create) return undefined;
        next = new TreeNode();
        (node.children ??= new Map()).set(level, next);
      }
      node = next;
    }
    return node;
  }

  private prune(filter: string, path: TreeNode[]): void {
    const levels = filter.split('/');
    for (let i = levels.length - 1; i >= 0; i--) {
      const parent = path[i];
      const child = parent.children?.get(levels[i]);
      if (!child || !child.isEmpty()) return;
      parent.children!.delete(levels[i]);
    }
  }
}

function collect(node: TreeNode, direct: Map<Session, DirectMatch>, groups: SharedGroup[]): void {
  if (node.subs) {
    for (const entry of node.subs.values()) {
      const m = direct.get(entry.session);
      if (m) m.entries.push(entry);
      else direct.set(entry.session, { session: entry.session, entries: [entry] });
    }
  }
  if (node.groups) for (const g of node.groups.values()) groups.push(g);
}
