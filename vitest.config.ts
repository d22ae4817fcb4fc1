import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'contracts/src/**/*.test.ts',
      'drizzle/tests/**/*.test.ts',
      'edge/src/**/*.test.ts',
      'edge/tests/**/*.test.ts',
      'collector/src/**/*.test.ts',
      'collector/tests/**/*.test.ts',
      'simulator/src/**/*.test.ts',
      'simulator/tests/**/*.test.ts',
      'web/src/**/*.test.ts',
      'web/tests/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    globalSetup: ['tests/env/global-setup.ts'],
    setupFiles: ['tests/env/setup-file.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // 2-core machines: real servers per file; keep parallelism modest and predictable.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
