import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/reporters/plain-summary.ts'],
    // The "secrets never leak" check: records every secret and all output of the run, scans at the end.
    globalSetup: ['./test/leak-capture/global.ts'],
    setupFiles: ['./test/leak-capture/preload.mjs'],
  },
});
