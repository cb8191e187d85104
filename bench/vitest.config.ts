import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Compiling plus one quick run per broker; the quick loads are sized to stay well inside this.
    testTimeout: 90000,
    hookTimeout: 90000,
  },
});
