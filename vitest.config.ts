import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Mini-cluster tests start worker_threads of their own; running files in parallel on a
    // 2-core machine only makes them fight for the cores.
    fileParallelism: false,
    pool: 'forks',
  },
});
