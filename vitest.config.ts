import {readdirSync} from 'node:fs'
import {defineConfig} from 'vitest/config'

// Each file in test/setup/ is a global setup (brokers and emulators the tests need).
const setups = readdirSync(new URL('./test/setup/', import.meta.url))
  .filter((f) => /\.(ts|js)$/.test(f))
  .sort()
  .map((f) => `./test/setup/${f}`)

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/reliability/soak/**', 'node_modules/**'],
    globalSetup: setups,
    // every audit log a test file wrote parses as NDJSON
    setupFiles: ['./test/helpers/audit-check.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
  },
})
