// A count of a topic that has no dead-letter topic asks nothing that fails: asking the metadata of
// the missing TOPIC-dlt answered UNKNOWN_TOPIC_OR_PARTITION, which the client retries twice, 200 ms
// apart, so every `inspect` paid 400 ms and `work --until-empty` (a count before, one at the end) 800.
import diagnostics from 'node:diagnostics_channel'
import {afterAll, describe, expect, it} from 'vitest'
import {createTopic, deleteTopic, ensureKafka, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []

afterAll(async () => {
  for (const t of made) await deleteTopic(t)
}, 120_000)

describe.skipIf(Boolean(missing))(`counts on kafka://${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('counts a topic without a dead-letter topic with no failed or retried request', async () => {
    const topic = await createTopic(uniqueTopic('stats-no-dlt'))
    made.push(topic)
    const broker = await openKafka()
    const channel = diagnostics.tracingChannel('plt:kafka:connections:api')
    const requests: number[] = []
    let failed = 0
    const handlers = {
      start: (ctx: unknown) => void requests.push((ctx as {apiKey?: number}).apiKey ?? -1),
      end() {},
      asyncStart() {},
      asyncEnd() {},
      error: () => void failed++,
    }
    try {
      await broker.enqueue(topic, [{payload: 'one'}])
      channel.subscribe(handlers)
      const stats = await broker.stats(topic)
      expect(stats.counts.waiting).toBe(1)
      expect(stats.counts.dead ?? 0).toBe(0)
      expect(failed).toBe(0)
      // Metadata (apiKey 3): the topic's, the listing and the reader's; the missing DLT's three more before
      expect(requests.filter((k) => k === 3).length).toBeLessThanOrEqual(3)
    } finally {
      channel.unsubscribe(handlers)
      await broker.close()
    }
  }, 120_000)
})

describe.skipIf(Boolean(missing))(`a count after a consumer closed on kafka://${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('counts none of what the closed consumer acked as waiting', async () => {
    const topic = await createTopic(uniqueTopic('stats-after-close'))
    made.push(topic)
    const broker = await openKafka()
    try {
      await broker.enqueue(topic, Array.from({length: 300}, (_, i) => ({payload: `m${i}`})), {ids: false})
      let acked = 0
      let all!: () => void
      const done = new Promise<void>((resolve) => (all = resolve))
      const sub = await broker.consume(topic, (lease) => void lease.ack().then(() => ++acked === 300 && all()), {prefetch: 64})
      await done
      await sub.close()
      // the commit of the last acks is at most 100 ms away, and was not waited for
      expect((await broker.stats(topic)).counts.waiting).toBe(0)
    } finally {
      await broker.close()
    }
  }, 120_000)
})
