// The bench's parts on the real memory broker: plans and rate schedules, sequence tracking,
// a full closed- and open-loop run, thresholds, and two agents meeting through one broker.
import {describe, expect, it} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'
import {UsageError} from '../../src/kernel/errors.js'
import {decodeHistogram, LatencyRecorder, meanOf, newHistogram, summarize} from '../../src/loadgen/histogram.js'
import {PayloadFactory, readHeader} from '../../src/loadgen/payload.js'
import {parseRatePlan, planBench, Schedule, type PlanInput} from '../../src/loadgen/plan.js'
import {failedAssertions, parseAssertion, renderComparison, renderResult} from '../../src/loadgen/report.js'
import {benchOnBroker} from '../../src/loadgen/session.js'
import {SequenceTracker} from '../../src/loadgen/tracker.js'

const base: PlanInput = {producers: 1, consumers: 1, concurrency: 16, batch: 50, size: '128B', workMs: 0, drain: '10s'}

async function memory(name: string) {
  const broker = await createBroker(`memory://${name}-${process.pid}`, {timeoutMs: 1000})
  await broker.connect()
  return broker
}

describe('planBench', () => {
  it('refuses a count with a duration, a zero rate, and a size below the header', () => {
    expect(() => planBench({...base, count: 10, duration: '5s'})).toThrow(/--count and --duration both given/)
    expect(() => planBench({...base, rate: '0'})).toThrow(/must be above zero/)
    expect(() => planBench({...base, rate: '0/s'})).toThrow(UsageError)
    expect(() => planBench({...base, size: '8B'})).toThrow(/16-byte header/)
  })

  it('defaults to a 5 s closed loop, and takes a stepped rate’s length as its duration', () => {
    expect(planBench(base)).toMatchObject({mode: 'closed', durationMs: 5000, sizeBytes: 128})
    const stepped = planBench({...base, rate: '1000:3000:1000/2s'})
    expect(stepped).toMatchObject({mode: 'open', durationMs: 6000})
    expect(stepped.steps!.map((s) => s.rate)).toEqual([1000, 2000, 3000])
  })

  it('schedules arrivals evenly within each step', () => {
    const s = new Schedule(parseRatePlan('1000:2000:1000/1s'))
    expect(s.at(0)).toBe(0)
    expect(s.at(500)).toBe(500)
    expect(s.at(1000)).toBe(1000)
    expect(s.at(1500)).toBe(1250)
    expect(s.countWithin(2000)).toBe(3000)
  })
})

describe('payloads and sequence tracking', () => {
  it('writes a header every message carries, padded to the size', () => {
    const f = new PayloadFactory(64)
    const a = f.make(1234.5, 7, 3)
    const b = f.make(99, 8, 3)
    expect(a.length).toBe(64)
    expect(readHeader(a)).toEqual({sentAt: 1234.5, seq: 7, agent: 3})
    expect(readHeader(b)?.seq).toBe(8)
    expect(a.subarray(16).toString()).toBe('x'.repeat(48))
  })

  it('counts duplicates and missing numbers, and merges across agents', () => {
    const t = new SequenceTracker()
    for (const seq of [0, 1, 2, 2, 5]) t.mark(0, seq)
    expect(t.unique).toBe(4)
    expect(t.duplicates).toBe(1)
    expect(t.missing(0, 6)).toBe(2)
    const other = new SequenceTracker()
    other.mark(0, 3)
    other.mark(0, 5)
    other.mark(1, 100_000)
    t.merge(other.export())
    expect(t.unique).toBe(6)
    expect(t.duplicates).toBe(2)
  })

  it('keeps memory flat on long in-order runs and still catches late duplicates', () => {
    const t = new SequenceTracker()
    // slightly out of order, like several consumers: the window slides as gaps fill
    for (let seq = 0; seq < 2_000_000; seq += 2) {
      t.mark(0, seq + 1)
      t.mark(0, seq)
    }
    expect(t.unique).toBe(2_000_000)
    expect(t.missing(0, 2_000_000)).toBe(0)
    expect(t.mark(0, 5)).toBe(false)
    expect(t.mark(0, 1_999_999)).toBe(false)
    expect(t.duplicates).toBe(2)
    expect(t.export()['0']).toEqual({base: 2_000_000, bits: ''})
    const gap = new SequenceTracker()
    for (let seq = 1; seq < 100_000; seq++) gap.mark(0, seq)
    expect(gap.missing(0, 100_000)).toBe(1)
    const merged = new SequenceTracker()
    merged.merge(gap.export())
    merged.merge(t.export())
    expect(merged.unique).toBe(2_000_000)
    expect(merged.duplicates).toBe(99_999)
  })
})

describe('latency histograms', () => {
  it('meanOf is the library’s mean to the last bit, on a spread of values across buckets', () => {
    const h = newHistogram()
    let x = 7
    for (let i = 0; i < 5000; i++) {
      x = (x * 48271) % 2147483647
      h.recordValueWithCount(1 + (x % 40_000_000) / (1 + (i % 97)), 1 + (i % 5))
    }
    expect(meanOf(h)).toBe(h.mean)
    expect(meanOf(newHistogram())).toBe(0)
  })

  it('a summary of recorded latencies decodes to the same counts and mean', () => {
    const r = new LatencyRecorder()
    for (const us of [3, 3, 900, 65_535, 65_536, 2_000_000]) r.record(us)
    const s = summarize(r.flush())
    const back = decodeHistogram(s.histogram)
    expect(back.totalCount).toBe(6)
    expect(s.mean).toBe(Math.round(back.mean) / 1000)
    expect(s.p50).toBe(0.9)
  })
})

describe('a bench session on memory://', () => {
  it('closed loop: every message processed exactly once, latency recorded, queue removed', async () => {
    const broker = await memory('bench-closed')
    const plan = planBench({...base, count: 20_000})
    const result = (await benchOnBroker({broker, plan, runId: 'closed', agents: 1, keep: false}))!
    expect(result).toMatchObject({sent: 20_000, processed: 20_000, lost: 0, duplicates: 0, partial: false})
    expect(result.latency.count).toBe(20_000)
    expect(result.latency.p99).toBeGreaterThanOrEqual(result.latency.p50)
    expect(decodeHistogram(result.latency.histogram).totalCount).toBe(20_000)
    expect(result.throughput).toBeGreaterThan(0)
    expect((await broker.listQueues()).map((q) => q.name)).not.toContain(result.queue)
    expect(renderResult(result, false)).toMatch(/every message accounted for: 20,000 of 20,000/)
    await broker.close()
  })

  it('open loop: sends on schedule, counts latency from the intended time, keeps the queue with keep', async () => {
    const broker = await memory('bench-open')
    const plan = planBench({...base, rate: '2000/s', duration: '1s', workMs: 5})
    const result = (await benchOnBroker({broker, plan, runId: 'open', agents: 1, keep: true}))!
    expect(result.sent).toBe(2000)
    expect(result.lost).toBe(0)
    // every message includes its 5 ms of simulated work (timers may fire up to 1 ms early)
    expect(result.latency.min).toBeGreaterThanOrEqual(4)
    expect(result.durationMs).toBeGreaterThanOrEqual(990)
    expect((await broker.listQueues()).map((q) => q.name)).toContain(result.queue)
    await broker.close()
  })

  it('open loop: a slow enqueue does not hold back the next due batch (sends overlap; latency is the broker’s, not the producer’s queueing)', async () => {
    const broker = await memory('bench-open-slow')
    // the memory broker behind a 100 ms confirm, like a far-away broker
    const slow = Object.create(broker) as typeof broker
    slow.enqueue = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 100))
      return broker.enqueue(...args)
    }
    const plan = planBench({...base, rate: '1000/s', duration: '1s'})
    const result = (await benchOnBroker({broker: slow, plan, runId: 'open-slow', agents: 1, keep: false}))!
    expect(result).toMatchObject({sent: 1000, lost: 0})
    // awaiting each send, batches of 50 every 100 ms fell behind the 1000/s schedule: p50 ~790 ms
    expect(result.latency.p50).toBeLessThan(150)
    expect(result.latency.p99).toBeLessThan(400)
    await broker.close()
  })

  it('--warmup: produces first at the same rate without recording latency; those messages still count', async () => {
    const broker = await memory('bench-warmup')
    const plan = planBench({...base, rate: '2000/s', duration: '500ms', warmup: '300ms'})
    expect(plan.warmupMs).toBe(300)
    const result = (await benchOnBroker({broker, plan, runId: 'warmup', agents: 1, keep: false}))!
    // 0.3 s + 0.5 s at 2000/s: all sent and processed, only the last 0.5 s in the histogram
    expect(result).toMatchObject({sent: 1600, processed: 1600, lost: 0, duplicates: 0})
    expect(result.latency.count).toBe(1000)
    expect(result.durationMs).toBeGreaterThanOrEqual(790)
    await broker.close()
  })

  it('stops early on the stop signal and marks the result partial', async () => {
    const broker = await memory('bench-stop')
    const stop = new AbortController()
    setTimeout(() => stop.abort('SIGINT'), 300)
    const plan = planBench({...base, duration: '30s'})
    const started = Date.now()
    const result = (await benchOnBroker({broker, plan, runId: 'stop', agents: 1, keep: false, stop: stop.signal}))!
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(result.partial).toBe(true)
    expect(result.lost).toBe(0)
    expect(renderResult(result, false)).toMatch(/PARTIAL/)
    expect((await broker.listQueues()).map((q) => q.name)).not.toContain(result.queue)
    await broker.close()
  })

  it('two agents meet through the broker, split the work and the leader merges both', async () => {
    const name = `bench-agents-${process.pid}`
    const [a, b] = await Promise.all([memory(name), memory(name)])
    const plan = planBench({...base, count: 3000})
    const [ra, rb] = await Promise.all([
      benchOnBroker({broker: a, plan, runId: 'two', agents: 2, keep: false}),
      benchOnBroker({broker: b, plan, runId: 'two', agents: 2, keep: false}),
    ])
    const merged = ra ?? rb
    expect([ra, rb].filter(Boolean)).toHaveLength(1)
    expect(merged).toMatchObject({agents: 2, sent: 6000, processed: 6000, lost: 0, duplicates: 0})
    expect(merged!.latency.count).toBe(6000)
    expect((await a.listQueues()).filter((q) => q.name.includes('two'))).toEqual([])
    await Promise.all([a.close(), b.close()])
  }, 60_000)
})

describe('assertions and comparison', () => {
  it('parses thresholds and reports the failing ones with the measured value', async () => {
    const broker = await memory('bench-assert')
    const result = (await benchOnBroker({broker, plan: planBench({...base, count: 1000}), runId: 'a', agents: 1, keep: false}))!
    await broker.close()
    expect(failedAssertions(result, [parseAssertion('lost=0'), parseAssertion('p99<10s'), parseAssertion('throughput>1/s')])).toEqual([])
    const failures = failedAssertions(result, [parseAssertion('throughput>1000000000/s'), parseAssertion('p99.9<0ms')])
    expect(failures[0]).toMatch(/^throughput>1000000000\/s failed: throughput was [\d,]+ msg\/s$/)
    expect(failures[1]).toMatch(/^p99.9<0ms failed: latency p99.9 was/)
    expect(() => parseAssertion('p98<5ms')).toThrow(/unknown metric "p98"/)
    expect(() => parseAssertion('fast')).toThrow(UsageError)
    const table = renderComparison(result, {...result, throughput: result.throughput * 2}, ['a', 'b'], false)
    expect(table).toMatch(/throughput .* 2\.00×/)
  })
})
