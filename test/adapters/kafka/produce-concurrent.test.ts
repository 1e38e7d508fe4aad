// Enqueues in flight at once on one kafka:// broker (the bench's open loop keeps 16, `work` publishes
// retries beside them) all land: @platformatic/kafka 1.x gives concurrent idempotent sends the same
// sequence, and the broker refused (OUT_OF_ORDER_SEQUENCE_NUMBER) or silently dropped all but one.
// They go one request at a time, and the batches waiting for a request go out in the next one.
import diagnostics from 'node:diagnostics_channel'
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
      // each enqueue's ids are its records' offsets, in order, after the warm-up record at 0
      const offsets = results.map((r) => (r.status === 'fulfilled' ? r.value.map((id) => Number(id.split(':')[1])) : []))
      expect(offsets.flat().sort((a, b) => a - b)).toEqual(Array.from({length: total}, (_, k) => k + 1))
      for (const o of offsets) expect(o).toEqual(Array.from({length: o.length}, (_, k) => o[0]! + k))
      const peeked = await broker.peek(topic, {limit: total + 1, state: 'waiting'})
      const byId = new Map(peeked.map((m) => [m.id, Buffer.from(m.payload).toString()]))
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') r.value.forEach((id, k) => expect(byId.get(id)).toBe(`batch ${i} record ${k}`))
      })
    } finally {
      await broker.close()
    }
  }, 120_000)

  it('sends the batches that wait for a produce request together in the next one', async () => {
    const topic = await createTopic(uniqueTopic('wt-kbench-joined'))
    made.push(topic)
    const broker = await openKafka()
    let produces = 0
    const channel = diagnostics.tracingChannel('plt:kafka:connections:api')
    const onStart = (ctx: unknown) => {
      if ((ctx as {apiKey?: number}).apiKey === 0) produces++
    }
    const handlers = {start: onStart, end() {}, asyncStart() {}, asyncEnd() {}, error() {}}
    try {
      await broker.enqueue(topic, [{payload: 'warm-up'}])
      channel.subscribe(handlers)
      produces = 0
      const results = await Promise.all(Array.from({length: 20}, (_, i) => broker.enqueue(topic, [{payload: `m${i}`}], {ids: false})))
      expect(results.flat()).toEqual([])
      // the first goes alone, the 19 waiting for it in one more request (20 without joining)
      expect(produces).toBeLessThanOrEqual(3)
      expect((await broker.stats(topic)).counts.waiting).toBe(21)
    } finally {
      channel.unsubscribe(handlers)
      await broker.close()
    }
  }, 120_000)
})
