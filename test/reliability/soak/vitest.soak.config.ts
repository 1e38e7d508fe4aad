// `npm run test:soak`: only the long soak files, with the same global setups as `npm test`
// (brokers and the SQS emulator), one file at a time so brokers do not share the machine's cores.
import {readdirSync} from 'node:fs'
import {defineConfig} from 'vitest/config'

const setupDir = new URL('../../setup/', import.meta.url)
const setups = readdirSync(setupDir)
  .filter((f) => /\.(ts|js)$/.test(f))
  .sort()
  .map((f) => new URL(f, setupDir).pathname)

export default defineConfig({
  test: {
    root: new URL('../../../', import.meta.url).pathname,
    include: ['test/reliability/soak/**/*.test.ts'],
    globalSetup: setups,
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
})
