// Interop with the real bullmq package, both ways: what BullMQ wrote is shown in BullMQ's terms,
// and what queuectl enqueues is run by a BullMQ Worker.
import {Queue, Worker, type Job} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const tag = `interop${process.pid}${Date.now().toString(36)}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

describe('bullmq interop', () => {
  let broker: Broker
  let connection: Redis
  const queues: Queue[] = []
  const workers: Worker[] = []
  const queue = (name: string) => {
    const q = new Queue(`${name}-${tag}`, {connection})
    queues.push(q)
    return q
  }
  beforeAll(async () => {
    connection = new Redis({host, port: Number(port), db: DB.bullmq, maxRetriesPerRequest: null})
    broker = await openRedis(`redis://${REDIS_HOST}/${DB.bullmq}`)
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close(true)))
    for (const q of queues) await q.obliterate({force: true}).catch(() => {})
    await Promise.all(queues.map((q) => q.close()))
    await broker?.close()
    connection.disconnect()
  })

  it('jobs BullMQ put in every state show with the right counts and names', async () => {
    const q = queue('states')
    const name = `bullmq:${q.name}`
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    await q.add('ok', {n: 1})
    await q.add('bad', {n: 2})
    await q.add('hold', {n: 3})
    const w = new Worker(
      q.name,
      async (job: Job) => {
        if (job.name === 'bad') throw new Error('bad on purpose')
        if (job.name === 'hold') await held
        return 'fine'
      },
      {connection: connection.duplicate(), concurrency: 1},
    )
    workers.push(w)
    await until('hold active', async () => ((await q.getActiveCount()) === 1 && (await q.getFailedCount()) === 1 ? true : undefined))
    await q.addBulk([
      {name: 'w1', data: {n: 4}},
      {name: 'w2', data: {n: 5}},
      {name: 'p1', data: {n: 6}, opts: {priority: 3}},
      {name: 'd1', data: {n: 7}, opts: {delay: 60_000}},
    ])
    const stats = await broker.stats(name)
    expect(stats.kind).toBe('bullmq')
    expect(stats.counts).toEqual({waiting: 3, inflight: 1, delayed: 1, dead: 1, completed: 1})
    const waiting = await broker.peek(name, {limit: 10})
    expect(waiting.map((m) => m.name).sort()).toEqual(['p1', 'w1', 'w2'])
    expect(waiting.find((m) => m.name === 'w1')!.body).toEqual({n: 4})
    expect((await broker.peek(name, {limit: 10, state: 'inflight'})).map((m) => m.name)).toEqual(['hold'])
    const [delayed] = await broker.peek(name, {limit: 10, state: 'delayed'})
    expect(delayed!.name).toBe('d1')
    expect(delayed!.availableAt! - delayed!.enqueuedAt!).toBe(60_000)
    const [failed] = await broker.peek(name, {limit: 10, state: 'dead'})
    expect(failed!.lastError).toBe('bad on purpose')
    expect((await broker.peek(name, {limit: 10, state: 'completed'})).map((m) => m.name)).toEqual(['ok'])
    release()
  })

  it('jobs queuectl enqueues are run by a BullMQ Worker: name, data, priority order, delay', async () => {
    const q = queue('run')
    const name = `bullmq:${q.name}`
    await broker.enqueue(name, [
      {payload: '{"to":"a@example.com"}', name: 'send', priority: 1},
      {payload: '{"to":"b@example.com"}', name: 'send', priority: 10},
      {payload: 'plain text', name: 'note', priority: 5},
      {payload: '{"late":true}', name: 'later', delayMs: 800},
    ])
    const seen: {name: string; data: unknown; at: number}[] = []
    const started = Date.now()
    const w = new Worker(q.name, async (job: Job) => void seen.push({name: job.name, data: job.data, at: Date.now()}), {
      connection: connection.duplicate(),
      concurrency: 1,
    })
    workers.push(w)
    await until('4 jobs run', async () => (seen.length >= 4 ? true : undefined))
    await w.close()
    expect(seen.map((s) => s.data)).toEqual([{to: 'b@example.com'}, 'plain text', {to: 'a@example.com'}, {late: true}])
    expect(seen[3]!.at - started).toBeGreaterThanOrEqual(700)
    expect((await broker.stats(name)).counts.completed).toBe(4)
  })

  it('a corrupt job hash is listed as undecodable and the rest of the listing still works', async () => {
    const q = queue('corrupt')
    const jobs = await q.addBulk([{name: 'a', data: {n: 1}}, {name: 'b', data: {n: 2}}, {name: 'c', data: {n: 3}}])
    await connection.hset(`bull:${q.name}:${jobs[1]!.id}`, 'data', '{not json') // simulate a corrupted job
    const peeked = await broker.peek(`bullmq:${q.name}`, {limit: 10})
    expect(peeked).toHaveLength(3)
    expect(peeked.filter((m) => !m.undecodable).map((m) => m.name)).toEqual(['a', 'c'])
    const bad = peeked.find((m) => m.undecodable)!
    expect(bad.id).toBe(jobs[1]!.id)
    expect(bad.undecodable).toMatch(/cannot read job/)
    expect(bad.payload.toString()).toBe('{not json')
  })

  it('retry failed, promote delayed, pause/resume and clean go through the library', async () => {
    const q = queue('ops')
    const name = `bullmq:${q.name}`
    await q.add('fails', {n: 1})
    const w: Worker = new Worker(q.name, async (): Promise<unknown> => {
      throw new Error('nope')
    }, {connection: connection.duplicate()})
    workers.push(w)
    await until('1 failed', async () => ((await q.getFailedCount()) === 1 ? true : undefined))
    await w.close()
    expect(await broker.retry(name, {state: 'dead'})).toBe(1)
    expect((await broker.stats(name)).counts).toMatchObject({waiting: 1, dead: 0})

    await q.add('soon', {n: 2}, {delay: 60_000})
    expect(await broker.retry(name, {state: 'delayed'})).toBe(1)
    expect((await broker.stats(name)).counts).toMatchObject({waiting: 2, delayed: 0})

    await broker.pause(name)
    expect(await q.isPaused()).toBe(true)
    expect((await broker.stats(name)).paused).toBe(true)
    await broker.resume(name)
    expect(await q.isPaused()).toBe(false)

    expect(await broker.purge(name, 'waiting')).toBe(2)
    expect(await q.getWaitingCount()).toBe(0)
  })
})
