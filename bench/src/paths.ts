import { resolve } from 'node:path';

// Compiled files live in bench/dist and sources in bench/src: one level below bench either way.
export const benchRoot = resolve(__dirname, '..');
export const repoRoot = resolve(benchRoot, '..');
