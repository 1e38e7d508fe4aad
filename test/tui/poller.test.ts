// StatsPoller against the memory broker: values, deleted queues, bounded concurrency, and a broker
// that stops answering (stale, last values kept, recovers by itself).
import {afterEach, describe, expect, it} from 'vitest'
import {pollQueueStats, StatsPoller, type BrokerSnapshot} from '../../src/services/poller.js'
import {eventually, gatedBroker, memoryBroker} from './gate.js'

const pollers: StatsPoller[] = []
afterEach(() => {
  for (const p of pollers.splice(0)) p.stop()
})

function start(poller: StatsPoller): StatsPoller {
  pollers.push(poller)
  poller.start()
  return poller
}

describe('pollQueueStats', () => {
  it('returns the stats of every queue, a bounded number at a time', async () => {
    const broker = await gatedBroker()
    for (let i = 0; i < 30; i++) await broker.inner.enqueue(`q${i}`, Array.from({length: i}, () => ({payload: 'x'})))
    const stats = await pollQueueStats(broker.broker, {concurrency: 4})
    expect(stats).toHaveLength(30)
    expect(stats.find((s) => s.name === 'q7')!.counts.waiting).toBe(7)
    expect(broker.maxConcurrentStats).toBeGreaterThan(1)
    expect(broker.maxConcurrentStats).toBeLessThanOrEqual(4)
  })

  it('watches only the queues given, and fails when one of them does not exist', async () => {
    const broker = await memoryBroker()
    await broker.enqueue('a', [{payload: '1'}])
    await broker.enqueue('b', [{payload: '1'}])
    expect((await pollQueueStats(broker, {queues: ['b']})).map((s) => s.name)).toEqual(['b'])
    await expect(pollQueueStats(broker, {queues: ['nope']})).rejects.toThrow(/queue "nope" not found/)
  })
})

describe('StatsPoller', () => {
  it('refreshes every interval and records history', async () => {
    const broker = await memoryBroker()
    await broker.enqueue('jobs', [{payload: '1'}])
    const poller = start(new StatsPoller(broker, {intervalMs: 100}))
    await eventually(() => expect(poller.snapshot.queues[0]?.counts.waiting).toBe(1))
    expect(poller.snapshot.loading).toBe(false)
    expect(poller.snapshot.latencyMs).toBeGreaterThanOrEqual(0)
    await broker.enqueue('jobs', [{payload: '2'}, {payload: '3'}])
    await eventually(() => expect(poller.snapshot.queues[0]?.counts.waiting).toBe(3))
    expect(poller.snapshot.history.series('jobs').at(-1)).toBe(3)
    expect(poller.snapshot.history.growth('jobs')).toBeGreaterThanOrEqual(2)
  })

  it('drops a queue deleted between polls', async () => {
    const broker = await memoryBroker()
    await broker.enqueue('gone', [{payload: '1'}])
    await broker.enqueue('kept', [{payload: '1'}])
    const poller = start(new StatsPoller(broker, {intervalMs: 100}))
    await eventually(() => expect(poller.snapshot.queues).toHaveLength(2))
    await broker.deleteQueue('gone')
    await eventually(() => expect(poller.snapshot.queues.map((q) => q.name)).toEqual(['kept']))
    expect(poller.snapshot.stale).toBe(false)
  })

  it('turns stale with the error when the broker refuses, keeps the last values, and recovers', async () => {
    const broker = await gatedBroker()
    await broker.inner.enqueue('jobs', [{payload: '1'}])
    const poller = start(new StatsPoller(broker.broker, {intervalMs: 100}))
    await eventually(() => expect(poller.snapshot.queues).toHaveLength(1))
    broker.mode = 'refuse'
    await eventually(() => expect(poller.snapshot.stale).toBe(true))
    expect(poller.snapshot.error).toMatch(/ECONNREFUSED/)
    expect(poller.snapshot.queues[0]!.counts.waiting).toBe(1)
    await broker.inner.enqueue('jobs', [{payload: '2'}])
    broker.mode = 'open'
    await eventually(() => expect(poller.snapshot.stale).toBe(false))
    await eventually(() => expect(poller.snapshot.queues[0]!.counts.waiting).toBe(2))
    expect(poller.snapshot.error).toBeUndefined()
  })

  it('gives up on a poll that hangs, without piling up polls, and recovers when the broker answers', async () => {
    const broker = await gatedBroker()
    await broker.inner.enqueue('jobs', [{payload: '1'}])
    const seen: BrokerSnapshot[] = []
    const poller = start(new StatsPoller(broker.broker, {intervalMs: 50, timeoutMs: 300}))
    poller.subscribe((s) => seen.push(s))
    await eventually(() => expect(poller.snapshot.queues).toHaveLength(1))
    broker.mode = 'hang'
    const hungAt = Date.now()
    await eventually(() => expect(poller.snapshot.stale).toBe(true))
    expect(Date.now() - hungAt).toBeLessThan(5000)
    expect(poller.snapshot.error).toMatch(/no answer from memory:\/\/gated within 300ms/)
    expect(poller.snapshot.queues[0]!.counts.waiting).toBe(1)
    // one poll hangs; the timer keeps ticking but starts no second one while it does
    const stalePolls = seen.length
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(seen.length).toBe(stalePolls)
    broker.mode = 'open'
    await eventually(() => expect(poller.snapshot.stale).toBe(false))
  })

  it('holds its values while paused and polls at once on resume', async () => {
    const broker = await memoryBroker()
    await broker.enqueue('jobs', [{payload: '1'}])
    const poller = start(new StatsPoller(broker, {intervalMs: 100}))
    await eventually(() => expect(poller.snapshot.queues).toHaveLength(1))
    poller.setPaused(true)
    await new Promise((resolve) => setTimeout(resolve, 150))
    await broker.enqueue('jobs', [{payload: '2'}])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(poller.snapshot.queues[0]!.counts.waiting).toBe(1)
    poller.setPaused(false)
    await eventually(() => expect(poller.snapshot.queues[0]!.counts.waiting).toBe(2))
  })
})
