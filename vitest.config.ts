import { defineConfig } from 'vitest/config';

/** Heavy scenarios (several processes, broker clusters): run alone, after the rest. */
const FAULT_INJECTION = 'test/e2e/fault-injection-*.test.ts';

export default defineConfig({
  test: {
    globalSetup: ['test/build-setup.ts', 'test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn servers and RocksDB stores; two cores do not reward more forks.
    maxWorkers: 2,
    // CI also writes a JSON report, from which .ci/run prints a plain one-line summary.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.cache/vitest-report.json' },
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [FAULT_INJECTION] } },
      // Each fault scenario loads both cores by itself: one file at a time, once the suite is done.
      { extends: true, test: { name: 'fault-injection', include: [FAULT_INJECTION], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
