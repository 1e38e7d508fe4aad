// 10,000 Redis queues: `inspect` and `top --once` show the first 1000 by name, read within the
// time budget (5 s for listing and stats together, plus the calls in flight), and say how many
// more were not shown, instead of taking 17 s (or a minute to lay out a 10,000-row table). A private redis-server: the
// shared one is never filled.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {PrivateRedis, freePort, runQ} from './harness.js'

const QUEUES = 10_000
// start-up of a CLI on a loaded 2-core machine, and closing
const MARGIN = 6000
const env = isolatedHome()
const redis = new PrivateRedis(0)

beforeAll(async () => {
  ;(redis as {port: number}).port = await freePort()
  await redis.start()
  await redis.cli('EVAL', `for i = 1, ${QUEUES} do redis.call('LPUSH', 'q' .. i, 'x') end return 1`, '0')
}, 60_000)
afterAll(async () => {
  await redis.stop()
})

describe(`${QUEUES} Redis queues`, () => {
  for (const args of [['inspect'], ['top', '--once']]) {
    it(`${args.join(' ')} ends within its budget and says what it did not show`, async () => {
      const r = await runQ([...args, '--url', `redis://127.0.0.1:${redis.port}`], {env, timeoutMs: 90_000})
      expect(r.code, r.stderr).toBe(0)
      expect(r.ms, r.stderr).toBeLessThan(5000 + 1000 + MARGIN)
      const shown = (r.stdout.match(/^\s*list:q\d+/gm) ?? []).length
      expect(shown, r.stdout.slice(0, 500)).toBeGreaterThan(0)
      // what is not shown is said: the queues past the first 1000, and any whose stats ran out of time
      expect(shown).toBeLessThan(QUEUES)
      const notShown = [...r.stderr.matchAll(/(\d+) more queues? not shown/g)].reduce((n, m) => n + Number(m[1]), 0)
      expect(notShown, r.stderr).toBe(QUEUES - shown)
    }, 120_000)
  }
})
