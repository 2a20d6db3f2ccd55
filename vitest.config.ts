import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Browser and job tests poll for state that arrives later on a loaded
    // two-core CI machine than on a workstation.
    expect: { poll: { timeout: 30_000, interval: 100 } },
    reporters: ['default'],
  },
});
