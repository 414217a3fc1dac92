import { defineConfig } from 'vitest/config';
import { HANG_MS } from './test/helpers/eventually.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A hang detector, not a speed limit: see test/helpers/eventually.ts.
    testTimeout: HANG_MS,
    hookTimeout: HANG_MS,
    reporters: ['default', './test/reporters/plain-summary.ts'],
    // The "secrets never leak" check: records every secret and all output of the run, scans at the end.
    globalSetup: ['./test/leak-capture/global.ts'],
    setupFiles: ['./test/leak-capture/preload.mjs'],
  },
});
