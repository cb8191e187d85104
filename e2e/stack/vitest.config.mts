import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.mjs';

export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    include: ['test/**/*.spec.ts'],
    // The live file starts a broker process and a Prometheus and waits for scrapes; the others run
    // docker-compose, promtool and python in well under a second each.
    testTimeout: 30000,
    hookTimeout: 45000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
