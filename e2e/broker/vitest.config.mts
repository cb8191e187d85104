import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.mjs';

export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    include: ['test/**/*.spec.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 20000,
    hookTimeout: 20000,
    // Files run in parallel forks on CI's 2 cores; each test gets its own broker on port 0. Vitest's default
    // is cores - 1 = one fork; most tests wait on the network or on protocol timers, so two are worth it.
    pool: 'forks',
    maxWorkers: 2,
  },
});
