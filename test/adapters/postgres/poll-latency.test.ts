// The PostgreSQL consume loop polls (neither library's queue wakes a reader): after an empty fetch
// it used to sleep a fixed 100 ms, so at a steady trickle every job waited out most of that sleep
// (a self-made stall: open-loop p99 was ~10× p50). It now pauses 2 ms after a fetch that found work,
// doubling only while fetches keep coming back empty.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {freshDatabase, installGraphile, installPgboss, openPostgres, sleep, type TestDb} from './helpers.js'

describe('PostgreSQL consume latency at a trickle', () => {
  let db: TestDb
  let broker: Broker

  beforeAll(async () => {
    db = await freshDatabase('polllat')
    await installPgboss(db.url)
    await installGraphile(db.url)
    broker = await openPostgres(db.url)
  }, 60_000)

  afterAll(async () => {
    await broker?.close()
    await db?.drop()
  })

  for (const kind of ['pgboss', 'graphile']) {
    it(`a job enqueued every 25 ms is picked up in well under the old 100 ms idle pause (${kind})`, async () => {
      const queue = `${kind}:trickle`
      await broker.createQueue(queue)
      const sentAt = new Map<string, number>()
      const latencies: number[] = []
      const sub = await broker.consume(queue, (lease) => {
        const key = JSON.stringify(JSON.parse(lease.message.payload.toString()))
        // picked up before the enqueue call returned: no wait at all
        latencies.push(sentAt.has(key) ? performance.now() - sentAt.get(key)! : 0)
        void lease.ack()
      }, {prefetch: 8})
      try {
        await sleep(300) // the loop is idle (its pause at the longest) before the trickle starts
        for (let i = 0; i < 40; i++) {
          const payload = JSON.stringify({job: i})
          // from the enqueue's confirm: what the consumer's polling adds, not the insert's own time
          await broker.enqueue(queue, [{payload: Buffer.from(payload)}])
          sentAt.set(payload, performance.now())
          await sleep(25)
        }
        for (let t = 0; latencies.length < 40 && t < 100; t++) await sleep(50)
      } finally {
        await sub.close()
      }
      expect(latencies).toHaveLength(40)
      const median = [...latencies].sort((a, b) => a - b)[20]!
      // measured at load ~20: before ~60 ms on pg-boss (the rest of a 100 ms sleep), now ~20 ms (a few ms of pause plus the fetch)
      expect(median).toBeLessThan(40)
    }, 60_000)
  }
})
