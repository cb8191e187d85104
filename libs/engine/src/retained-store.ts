import type { Message } from './message';

/**
 * Where retained messages live. The engine ships an in-memory store; persistence (a later issue) provides
 * another implementation of the same interface.
 */
export interface RetainedStore {
  readonly size: number;
  has(topic: string): boolean;
  /** Stores a retained message, or removes the topic's message when the payload is empty (spec 3.3.1.3). */
  set(msg: Message): void;
  delete(topic: string): void;
  /** Unexpired retained messages whose topic matches the filter. */
  match(filter: string, now: number): Message[];
}

class Node {
  children: Map<string, Node> | undefined;
  msg: Message | undefined;
}

/** A topic trie, so wildcard subscribes walk only matching branches instead of scanning every topic. */
export class MemoryRetainedStore implements RetainedStore {
  private readonly root = new Node();
  private readonly byTopic = new Map<string, Message>();

  get size(): number {
    return this.byTopic.size;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  set(msg: Message): void {
    if (msg.payload.length === 0) {
      this.delete(msg.topic);
      return;
    }
    const levels = msg.topic.split('/');
    let node = this.root;
    for (const level of levels) {
      let next = node.children?.get(level);
      if (!next) {
        next = new Node();
        (node.children ??= new Map()).set(level, next);
      }
      node = next;
    }
    node.msg = msg.own();
    this.byTopic.set(msg.topic, msg);
  }

  delete(topic: string): void {
    if (this.byTopic.delete(topic)) this.removePath(topic.split('/'));
  }

  match(filter: string, now: number): Message[] {
    const out: Message[] = [];
    const exact = !filter.includes('+') && !filter.includes('#');
    if (exact) {
      const msg = this.byTopic.get(filter);
      if (msg) this.collectOne(msg, now, out);
      return out;
    }
    this.walk(this.root, filter.split('/'), 0, now, out);
    return out;
  }

  private walk(node: Node, f: string[], i: number, now: number, out: Message[]): void {
    if (i === f.length) {
      if (node.msg) this.collectOne(node.msg, now, out);
      return;
    }
    const level = f[i];
    if (level === '#') {
      // `a/#` matches `a` itself too; leading wildcards skip `$` topics (spec 4.7.2).
      if (node.msg) this.collectOne(node.msg, now, out);
      this.collectAll(node, i === 0, now, out);
      return;
    }
    if (!node.children) return;
    if (level === '+') {
      for (const [name, child] of node.children) {
        if (i === 0 && name.startsWith('$')) continue;
        this.walk(child, f, i + 1, now, out);
      }
      return;
    }
    const child = node.children.get(level);
    if (child) this.walk(child, f, i + 1, now, out);
  }

  private collectAll(node: Node, skipDollar: boolean, now: number, out: Message[]): void {
    if (!node.children) return;
    for (const [name, child] of node.children) {
      if (skipDollar && name.startsWith('$')) continue;
      if (child.msg) this.collectOne(child.msg, now, out);
      this.collectAll(child, false, now, out);
    }
  }

  private collectOne(msg: Message, now: number, out: Message[]): void {
    if (msg.isExpired(now)) {
      this.delete(msg.topic);
      return;
    }
    out.push(msg);
  }

  private removePath(levels: string[]): void {
    const path: Node[] = [];
    let node: Node | undefined = this.root;
    for (const level of levels) {
      if (!node) return;
      path.push(node);
      node = node.children?.get(level);
    }
    if (!node) return;
    node.msg = undefined;
    for (let i = levels.length - 1; i >= 0; i--) {
      const child = path[i].children?.get(levels[i]);
      if (!child || child.msg || child.children?.size) return;
      path[i].children!.delete(levels[i]);
    }
  }
}
