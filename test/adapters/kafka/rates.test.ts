// Rates from offsets over time on the real broker: records produced between two stats calls are
// the in rate, records a group acknowledged (committed) between them the out rate; the first call
// has none, and says why.
import {afterAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {createTopic, deleteTopic, ensureKafka, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []
let broker: Broker | undefined

afterAll(async () => {
  await broker?.close()
  for (const t of made) await deleteTopic(t)
}, 60_000)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const batch = (n: number) => Array.from({length: n}, (_, i) => ({payload: Buffer.from(`r${i}`)}))

describe.skipIf(Boolean(missing))(`kafka:// rates from offsets${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('in = end offsets advancing, out = committed offsets advancing, per second between two samples', async () => {
    const t = await createTopic(uniqueTopic('rates'), 2)
    made.push(t, `${t}-dlt`)
    broker = await openKafka()
    expect((await broker.capabilitiesOf(t)).rates).toBe(true)
    await broker.enqueue(t, batch(100))

    const first = await broker.stats(t)
    expect(first.rates).toBeUndefined()
    expect(String(first.details?.rates)).toMatch(/second sample/)

    const started = Date.now()
    await broker.enqueue(t, batch(400))
    // the group takes 150 records and commits them
    let acked = 0
    const sub = await broker.consume(t, (lease: Lease) => {
      if (acked >= 150) return
      acked++
      void lease.ack()
    }, {prefetch: 150})
    const deadline = Date.now() + 30_000
    await sleep(1000)
    while (acked < 150 && Date.now() < deadline) await sleep(100)
    await sub.close()
    await sleep(300)
    const second = await broker.stats(t)
    const seconds = (Date.now() - started) / 1000
    expect(second.rates?.inPerSec).toBeGreaterThan(0)
    // 400 records over the seconds between the samples (the first sample came just before them)
    expect(second.rates!.inPerSec! * seconds).toBeGreaterThan(400 * 0.6)
    expect(second.rates!.inPerSec! * seconds).toBeLessThan(400 * 1.6)
    // 150 committed of the 500: out is that many over the same seconds
    expect(acked).toBe(150)
    expect(second.counts.waiting).toBe(350)
    expect(second.rates!.outPerSec! * seconds).toBeGreaterThan(150 * 0.6)
    expect(second.rates!.outPerSec! * seconds).toBeLessThan(150 * 1.6)
  }, 90_000)
})
