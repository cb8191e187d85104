import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root: the stack's files live there, next to the workspace projects. */
export const ROOT = resolve(__dirname, '../../../..');

export function repoPath(...parts: string[]): string {
  return resolve(ROOT, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The record at `key`, or an error naming where it was expected. */
export function recordAt(value: unknown, key: string, where: string): Record<string, unknown> {
  const found = isRecord(value) ? value[key] : undefined;
  if (!isRecord(found)) throw new Error(`${where}: expected a mapping at "${key}"`);
  return found;
}

export function arrayAt(value: unknown, key: string, where: string): unknown[] {
  const found = isRecord(value) ? value[key] : undefined;
  if (!Array.isArray(found)) throw new Error(`${where}: expected a list at "${key}"`);
  return found;
}
