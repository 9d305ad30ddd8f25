// The test suite: `npm test` runs typecheck, build, then `vitest run --config config/vitest.config.ts`.
// One file:  npx vitest run --config config/vitest.config.ts test/unit/chain/chain.test.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Paths below (include, outputFile) are from the repository's root, not this folder.
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: integration tests spawn node processes, so keep file parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    hookTimeout: 60_000,
  },
});
