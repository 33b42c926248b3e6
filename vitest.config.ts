import { defineConfig } from 'vitest/config';

// Tests live under test/, mirroring src/. Suites that start processes or touch the kernel
// carry their own, longer timeouts; the default here suits pure unit tests.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    globalSetup: ['test/support/global-teardown.ts'],
  },
});
