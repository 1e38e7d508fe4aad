// Enqueues in flight at once on one kafka:// broker (the bench's open loop keeps 16, `work` publishes
// retries beside them) all land: @platformatic/kafka 1.x gives concurrent idempotent sends the same
// sequence, and the broker refused (OUT_OF_ORDER_SEQUENCE_NUMBER) or silently dropped all but one.
import {afterAll, describe, expect, it} from 'vitest'
import {createTopic, deleteTopic, ensureKafka, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []

afterAll(async () => {
  for (const t of made) await deleteTopic(t)
}, 120_000)

describe.skipIf(Boolean(missing))(`concurrent enqueues on kafka://${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('writes every record of enqueues sent at once, each at its own offset', async () => {
    const topic = await createTopic(uniqueTopic('wt-kbench-concurrent'))
    made.push(topic)
    const broker = await openKafka()
    try {
      await broker.enqueue(topic, [{payload: 'warm-up'}])
      // same-size batches (taken for retries by the broker) and batches of other sizes
      const sizes = [...Array.from({length: 12}, () => 1), 3, 5, 2, 7]
      const results = await Promise.allSettled(
        sizes.map((n, i) => broker.enqueue(topic, Array.from({length: n}, (_, k) => ({payload: `batch ${i} record ${k}`})))),
      )
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))
      expect(failed).toEqual([])
      const ids = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
      const total = sizes.reduce((a, b) => a + b, 0)
      expect(new Set(ids).size).toBe(total)
      const stats = await broker.stats(topic)
      expect(stats.counts.waiting).toBe(total + 1)
    } finally {
      await broker.close()
    }
  }, 120_000)
})
