import { MemoryRetainedStore, type Message, type RetainedStore } from '@fluxmq/engine';
import type { SqliteStateStore } from './state-store';

/**
 * Retained messages served from memory (the engine's topic trie: a wildcard subscribe must not query
 * SQLite) and written behind to SQLite in the state store's group commits.
 */
export class SqliteRetainedStore implements RetainedStore {
  private readonly memory = new MemoryRetainedStore();

  constructor(private readonly state: SqliteStateStore) {}

  get size(): number {
    return this.memory.size;
  }

  has(topic: string): boolean {
    return this.memory.has(topic);
  }

  set(msg: Message): void {
    this.memory.set(msg);
    // $SYS statistics are republished every interval: storing them would only cost writes, and restore
    // stale numbers.
    if (!msg.topic.startsWith('$SYS/')) this.state.retainedSet(msg);
  }

  /** Restores a message read back at start-up; already stored, so not written again. */
  restore(msg: Message): void {
    this.memory.set(msg);
  }

  delete(topic: string): void {
    if (!this.memory.has(topic)) return;
    this.memory.delete(topic);
    this.state.retainedDeleted(topic);
  }

  match(filter: string, now: number): Message[] {
    return this.memory.match(filter, now);
  }
}
