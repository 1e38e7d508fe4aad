// The bounded form of the soak (test/reliability/soak/ has the 10-minute one, `npm run test:soak`):
// 25 s at a steady 200/s on Redis through one `queue work` process. Nothing lost, no duplicates
// without faults, worker memory not climbing, p99 not drifting.
import {afterAll, describe, expect, it} from 'vitest'
import {describeSoak, soak, soakQueue} from './soak/soak.js'
import {killChildren} from './harness.js'

afterAll(killChildren)

const REDIS = process.env.QUEUECTL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('load held (bounded soak)', () => {
  it('Redis list, 200/s for 25 s: none lost, none duplicated, RSS and p99 flat', async () => {
    const r = await soak({url: REDIS, queue: soakQueue('redis'), rate: 200, seconds: 25, windowSeconds: 5})
    console.log(describeSoak('redis (bounded)', r))
    expect(r.sendErrors).toBe(0)
    expect(r.lost).toBe(0)
    expect(r.duplicated).toBe(0)
    expect(r.sent).toBeGreaterThan(200 * 25 * 0.9)
    expect(r.workerErrors).toBe(0)
    // flat: the worker's RSS grows by less than 64 MiB over the run (noise on a shared machine)
    expect(r.rssEndMb - r.rssStartMb).toBeLessThan(64)
    // steady: the last window's p99 is within 5x the best window's (or under 500 ms)
    const p99s = r.windows.map((w) => w.p99)
    expect(p99s.at(-1)!).toBeLessThan(Math.max(500, 5 * Math.min(...p99s)))
  }, 180_000)
})
