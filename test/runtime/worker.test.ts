// The worker runtime against the real memory broker: concurrency, ack modes, retries and
// dead-lettering, timeouts, lease extension, close semantics, --max-jobs and --until-empty.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../src/broker/contract.js'
import {ConnectionError} from '../../src/kernel/errors.js'
import {createBroker} from '../../src/adapters/registry.js'
import {Worker, type Job} from '../../src/runtime/worker.js'

let broker: Broker
let n = 0

beforeAll(async () => {
  broker = await createBroker('memory://runtime-test', {timeoutMs: 1000})
  await broker.connect()
})
afterAll(() => broker.close())

async function queueWith(count: number): Promise<string> {
  const queue = `rt-${process.pid}-${n++}`
  await broker.createQueue(queue)
  if (count > 0) await broker.enqueue(queue, Array.from({length: count}, (_, i) => ({payload: JSON.stringify({i})})))
  return queue
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const fast = {initialMs: 5, maxMs: 20}

describe('Worker', () => {
  it('runs every message once with at most `concurrency` handlers at a time, acking each', async () => {
    const queue = await queueWith(200)
    let active = 0
    let peak = 0
    const seen = new Set<number>()
    const worker = new Worker(
      broker,
      queue,
      async (job: Job) => {
        active++
        peak = Math.max(peak, active)
        seen.add((JSON.parse(job.message.payload.toString()) as {i: number}).i)
        await new Promise((r) => setTimeout(r, 1))
        active--
      },
      {concurrency: 4, prefetch: 10},
    )
    await worker.start()
    await until(() => worker.counts.completed === 200, 20_000, '200 completions')
    const summary = await worker.close()
    expect(peak).toBeLessThanOrEqual(4)
    expect(peak).toBeGreaterThan(1)
    expect(seen.size).toBe(200)
    expect(summary.completed).toBe(200)
    const stats = await broker.stats(queue)
    expect(stats.counts.waiting).toBe(0)
    expect(stats.counts.inflight).toBe(0)
  })

  it('retries with backoff, then dead-letters after maxAttempts, emitting typed events', async () => {
    const queue = await queueWith(3)
    const events: string[] = []
    const attempts: number[] = []
    const worker = new Worker(broker, queue, (job) => {
      attempts.push(job.attempt)
      throw new Error('boom')
    }, {maxAttempts: 3, backoff: fast})
    worker.on('retrying', (e) => events.push(`retrying:${e.attempt}:${e.delayMs > 0}`))
    worker.on('dead', (e) => events.push(`dead:${e.attempt}:${e.deadLettered}:${e.reason}`))
    worker.on('failed', (e) => expect(e.error.message).toBe('boom'))
    await worker.start()
    await until(() => worker.counts.dead === 3, 10_000, '3 dead')
    await worker.close()
    expect(attempts.sort()).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3])
    expect(events.filter((e) => e === 'retrying:1:true')).toHaveLength(3)
    expect(events.filter((e) => e.startsWith('dead:3:true:failed 3 times, last: boom'))).toHaveLength(3)
    expect((await broker.stats(queue)).counts.dead).toBe(3)
  })

  it('times out a hanging handler, aborts its signal, retries, then dead-letters it', async () => {
    const queue = await queueWith(1)
    let aborted = 0
    const worker = new Worker(
      broker,
      queue,
      (job) =>
        new Promise(() => {
          job.signal.addEventListener('abort', () => aborted++)
        }),
      {timeoutMs: 100, maxAttempts: 2, backoff: fast},
    )
    const reasons: string[] = []
    worker.on('dead', (e) => reasons.push(e.reason))
    await worker.start()
    await until(() => worker.counts.dead === 1, 10_000, 'dead after timeouts')
    await worker.close()
    expect(aborted).toBe(2)
    expect(worker.counts.failed).toBe(2)
    expect(reasons[0]).toMatch(/timed out after 100ms/)
    const [dead] = await broker.peek(queue, {limit: 1, state: 'dead'})
    expect(dead?.lastError).toMatch(/timed out/)
  })

  it('acks that fail on a lost connection are reported once per outage, not once per message', async () => {
    const queue = await queueWith(20)
    // the memory broker with every ack failing as a dropped connection would (the lease stays out)
    const flaky = Object.create(broker) as Broker
    flaky.consume = (q, handler, options) =>
      broker.consume(q, (lease: Lease) => handler({
        message: lease.message,
        ack: () => Promise.reject(new ConnectionError('lost the connection (test)', true)),
        nack: (o) => lease.nack(o),
        deadLetter: (r) => lease.deadLetter(r),
        extend: (ms) => lease.extend(ms),
      }), options)
    const worker = new Worker(flaky, queue, () => undefined, {concurrency: 4, prefetch: 20, backoff: fast})
    const errors: string[] = []
    worker.on('error', (e) => errors.push(e.error.message))
    await worker.start()
    await until(() => worker.counts.completed === 20, 5000, '20 completions')
    await new Promise((r) => setTimeout(r, 50))
    await worker.close(true)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^lost the connection \(test\) — settling fails until the broker is back; those messages are redelivered when their leases expire$/)
  })

  it('acks early when asked: a failure is reported, not retried', async () => {
    const queue = await queueWith(5)
    const worker = new Worker(broker, queue, () => Promise.reject(new Error('nope')), {ack: 'early', backoff: fast})
    await worker.start()
    await until(() => worker.counts.failed === 5, 5000, '5 failures')
    await new Promise((r) => setTimeout(r, 50))
    await worker.close()
    expect(worker.counts.started).toBe(5)
    expect(worker.counts.retried).toBe(0)
    const stats = await broker.stats(queue)
    expect(stats.counts).toMatchObject({waiting: 0, inflight: 0, dead: 0, delayed: 0})
  })

  it('extends the lease of a slow job so it is not redelivered', async () => {
    const queue = await queueWith(1)
    // 3.5 leases long; a lease of 1 s, not less: a loaded CI machine stalls the loop for 200 ms at times
    const worker = new Worker(broker, queue, () => new Promise((r) => setTimeout(r, 3500)), {leaseMs: 1000})
    await worker.start()
    await until(() => worker.counts.completed === 1, 10_000, 'slow job done')
    await worker.close()
    expect(worker.counts.started).toBe(1)
  })

  it('close() waits for running jobs, is idempotent, and hands back buffered leases', async () => {
    const queue = await queueWith(10)
    let done = 0
    const worker = new Worker(broker, queue, () => new Promise<void>((r) => setTimeout(() => (done++, r()), 200)), {
      concurrency: 2,
      prefetch: 5,
    })
    await worker.start()
    await until(() => worker.runningJobs === 2, 5000, '2 running')
    const first = worker.close()
    expect(worker.close()).toBe(first)
    const summary = await first
    expect(done).toBe(2)
    expect(summary.completed).toBe(2)
    expect(summary.returned).toBe(3)
    expect((await broker.stats(queue)).counts).toMatchObject({waiting: 8, inflight: 0})
  })

  it('close(true) aborts running jobs and puts their messages back at once', async () => {
    const queue = await queueWith(3)
    const worker = new Worker(broker, queue, (job) => new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(new Error('aborted')))), {
      concurrency: 3,
    })
    await worker.start()
    await until(() => worker.runningJobs === 3, 5000, '3 running')
    const graceful = worker.close()
    const started = Date.now()
    const summary = await worker.close(true)
    expect(await graceful).toBe(summary)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(summary.reason).toBe('forced')
    expect(summary.returned).toBe(3)
    expect((await broker.stats(queue)).counts).toMatchObject({waiting: 3, inflight: 0})
  })

  it('stops after maxJobs and leaves the rest in the queue', async () => {
    const queue = await queueWith(20)
    const worker = new Worker(broker, queue, () => undefined, {maxJobs: 7, concurrency: 3, prefetch: 6})
    await worker.start()
    const summary = await worker.finished
    expect(summary.reason).toBe('max-jobs')
    expect(summary.completed).toBe(7)
    expect((await broker.stats(queue)).counts).toMatchObject({waiting: 13, inflight: 0})
  })

  it('stops by itself once the queue is empty (until-empty), after delayed retries are done', async () => {
    const queue = await queueWith(5)
    let calls = 0
    const worker = new Worker(broker, queue, (job) => {
      calls++
      if (job.attempt === 1 && job.message.payload.toString().includes('"i":0')) throw new Error('once')
    }, {untilEmptyIdleMs: 50, backoff: {initialMs: 150, maxMs: 150, jitter: 0}})
    const drained: number[] = []
    worker.on('drained', () => drained.push(calls))
    await worker.start()
    const summary = await worker.finished
    expect(summary.reason).toBe('empty')
    expect(calls).toBe(6)
    expect(summary.completed).toBe(5)
    expect(drained.length).toBeGreaterThanOrEqual(1)
  })

  it('until-empty waits its idle time from the last job, not from an earlier idle spell', async () => {
    const idleMs = 400
    const queue = await queueWith(1)
    let lastDone = 0
    const worker = new Worker(broker, queue, () => {
      lastDone = performance.now()
    }, {untilEmptyIdleMs: idleMs})
    await worker.start()
    await until(() => worker.counts.completed === 1, 5000, 'the first job')
    // a second message early in the first idle spell: the wait starts again from its job
    await new Promise((r) => setTimeout(r, 40))
    await broker.enqueue(queue, [{payload: '{"i":1}'}])
    const summary = await worker.finished
    const after = performance.now() - lastDone
    expect(summary).toMatchObject({reason: 'empty', completed: 2})
    expect(after).toBeGreaterThanOrEqual(idleMs - 5)
    // the timer of the first spell used to see the delivery, then wait a whole period more (~2×)
    expect(after).toBeLessThan(idleMs * 1.5)
  })

  describe('a message out of attempts (onExhausted): nothing is dropped unless asked', () => {
    const failing = (calls: number[]) => (job: Job) => {
      calls.push(job.attempt)
      throw new Error('poison')
    }

    it('stop: puts it back on the queue and stops the worker, reason "exhausted"', async () => {
      const queue = await queueWith(1)
      const calls: number[] = []
      const outcomes: string[] = []
      const worker = new Worker(broker, queue, failing(calls), {maxAttempts: 2, backoff: fast, onExhausted: 'stop'})
      worker.on('dead', (e) => outcomes.push(`${e.outcome}:${e.deadLettered}:${e.attempt}`))
      await worker.start()
      const summary = await worker.finished
      expect(summary).toMatchObject({reason: 'exhausted', kept: 1, dead: 0, dropped: 0, failed: 2})
      expect(outcomes).toEqual(['kept:false:2'])
      expect(calls).toEqual([1, 2])
      expect((await broker.stats(queue)).counts).toMatchObject({waiting: 1, inflight: 0, dead: 0})
    })

    it('requeue: keeps retrying it after the longest backoff, the worker running on', async () => {
      const queue = await queueWith(1)
      const calls: number[] = []
      const worker = new Worker(broker, queue, failing(calls), {maxAttempts: 2, backoff: {initialMs: 5, maxMs: 30, jitter: 0}, onExhausted: 'requeue'})
      worker.on('dead', (e) => expect(e.outcome).toBe('requeued'))
      await worker.start()
      await until(() => worker.counts.kept >= 2, 5000, 'requeued twice')
      const summary = await worker.close()
      expect(summary.reason).toBe('closed')
      expect(summary.dead + summary.dropped).toBe(0)
      expect(calls.slice(0, 3)).toEqual([1, 2, 3])
      const stats = await broker.stats(queue)
      expect((stats.counts.waiting ?? 0) + (stats.counts.delayed ?? 0)).toBe(1)
      expect(stats.counts.dead).toBe(0)
    })

    it('drop: acks it away and says so', async () => {
      const queue = await queueWith(2)
      const outcomes: string[] = []
      const worker = new Worker(broker, queue, failing([]), {maxAttempts: 1, onExhausted: 'drop'})
      worker.on('dead', (e) => outcomes.push(e.outcome))
      await worker.start()
      await until(() => worker.counts.dropped === 2, 5000, '2 dropped')
      const summary = await worker.close()
      expect(summary).toMatchObject({dropped: 2, dead: 0, kept: 0})
      expect(outcomes).toEqual(['dropped', 'dropped'])
      expect((await broker.stats(queue)).counts).toMatchObject({waiting: 0, inflight: 0, dead: 0, delayed: 0})
    })

    it('unset on a broker that dead-letters: dead-letters (the default)', async () => {
      const queue = await queueWith(1)
      const worker = new Worker(broker, queue, failing([]), {maxAttempts: 1})
      await worker.start()
      await until(() => worker.counts.dead === 1, 5000, 'dead-lettered')
      expect((await worker.close()).reason).toBe('closed')
      expect((await broker.stats(queue)).counts).toMatchObject({waiting: 0, dead: 1})
    })
  })
})
