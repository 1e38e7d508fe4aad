// Sidekiq 7 and 8 (not in Debian: fixtures from their source, ./fixtures/sidekiq.ts): Sidekiq 8's
// integer-millisecond times read as the right time and age, its processes' `:work` and capsules
// read for in-flight jobs and consumers, and queuectl writes times in the format of the Sidekiq in
// use. Each test runs under its own ?sidekiqNamespace=, so its fake processes touch no other test.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {LIB_DB, REDIS_HOST, openLib, uniqueName} from './helpers.js'
import {sidekiq7Job, sidekiq8Job, sidekiq8Process, sidekiq8RetryJob, sidekiqCapsulesOnlyProcess, sidekiqWork} from './fixtures/sidekiq.js'

const DB = LIB_DB.sidekiq
const JID = 'a1b2c3d4e5f6a1b2c3d4e5f6'

describe('redis sidekiq 7/8 formats (source-derived fixtures)', () => {
  let raw: Redis
  const namespaces: string[] = []
  const brokers: Broker[] = []
  async function space() {
    const ns = uniqueName('skns')
    namespaces.push(ns)
    const broker = await openLib(DB, `?sidekiqNamespace=${ns}`)
    brokers.push(broker)
    const k = (key: string) => `${ns}:${key}`
    return {broker, k, q: 'q'}
  }
  /** A live Sidekiq process as launcher.rb's heartbeat leaves it, optionally running `jobJson`. */
  async function process(k: (key: string) => string, data: {hash: Record<string, string>}, identity: string, work?: string) {
    await raw.sadd(k('processes'), identity)
    await raw.hset(k(identity), data.hash)
    await raw.expire(k(identity), 60)
    if (work) await raw.hset(k(`${identity}:work`), '1xq2', work)
  }

  beforeAll(() => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
  })
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()))
    for (const ns of namespaces) {
      for await (const keys of raw.scanStream({match: `${ns}:*`, count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
    }
    raw.disconnect()
  })

  it('a Sidekiq 8 job (integer ms) shows its true enqueue time, and its queue the true age', async () => {
    const {broker, k, q} = await space()
    const enqueued = Date.now() - 60_000
    await raw.sadd(k('queues'), q)
    await raw.lpush(k(`queue:${q}`), sidekiq8Job(q, 'HardJob', [1, 'two'], JID, enqueued - 5000, enqueued))
    const [m] = await broker.peek(`sidekiq:${q}`, {limit: 1})
    expect(m).toMatchObject({id: JID, name: 'HardJob', enqueuedAt: enqueued})
    const stats = await broker.stats(`sidekiq:${q}`)
    expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(59_000)
    expect(stats.oldestAgeMs).toBeLessThan(120_000)
  })

  it('a Sidekiq 7 job (float seconds) reads the same way', async () => {
    const {broker, k, q} = await space()
    await raw.sadd(k('queues'), q)
    await raw.lpush(k(`queue:${q}`), sidekiq7Job(q, 'HardJob', [1], JID, '1796604633.686123', '1796604693.6861234'))
    const [m] = await broker.peek(`sidekiq:${q}`, {limit: 1})
    expect(m!.enqueuedAt).toBe(1_796_604_693_686)
  })

  it('Sidekiq 8 processes: the job in `IDENTITY:work` is in flight, a capsules-only process counts as a consumer', async () => {
    const {broker, k, q} = await space()
    await raw.sadd(k('queues'), q)
    const running = sidekiq8Job(q, 'HardJob', [7], JID, Date.now() - 2000, Date.now() - 1000)
    await process(k, sidekiq8Process('box:4242:0a1b2c3d4e5f', q), 'box:4242:0a1b2c3d4e5f', sidekiqWork(q, running, Math.floor(Date.now() / 1000)))
    await process(k, sidekiqCapsulesOnlyProcess('box:4243:0a1b2c3d4e60', q), 'box:4243:0a1b2c3d4e60')
    const stats = await broker.stats(`sidekiq:${q}`)
    expect(stats.counts.inflight).toBe(1)
    expect(stats.consumers).toBe(2)
    const [m] = await broker.peek(`sidekiq:${q}`, {limit: 5, state: 'inflight'})
    expect(m).toMatchObject({id: JID, name: 'HardJob', state: 'inflight'})
  })

  it('enqueue and retry write integer ms when every process is Sidekiq 8, float seconds when one is older', async () => {
    const {broker, k, q} = await space()
    await process(k, sidekiq8Process('box:1:aa', q), 'box:1:aa')
    const before = Date.now()
    const [jid] = await broker.enqueue(`sidekiq:${q}`, [{name: 'HardJob', payload: '[1]'}])
    const job = JSON.parse((await raw.lindex(k(`queue:${q}`), 0))!) as Record<string, number>
    expect(job.jid).toBe(jid)
    for (const field of ['created_at', 'enqueued_at'] as const) {
      expect(Number.isInteger(job[field])).toBe(true)
      expect(job[field]).toBeGreaterThanOrEqual(before)
      expect(job[field]).toBeLessThanOrEqual(Date.now())
    }
    // a Sidekiq 8 job failed into the retry set comes back as SortedEntry#retry + Client.push write it
    await raw.zadd(k('retry'), String(Date.now() / 1000 + 3600), sidekiq8RetryJob(q, 'HardJob', [2], JID, before - 9000, before - 8000))
    expect(await broker.retry(`sidekiq:${q}`, {state: 'retry'})).toBe(1)
    const back = JSON.parse((await raw.lindex(k(`queue:${q}`), 0))!) as Record<string, number>
    expect(back).toMatchObject({jid: JID, retry_count: -1, failed_at: before - 8000, created_at: before - 9000})
    expect(Number.isInteger(back.enqueued_at)).toBe(true)
    expect(back.enqueued_at).toBeGreaterThanOrEqual(before)

    await process(k, sidekiq8Process('box:2:bb', q, '7.3.9'), 'box:2:bb')
    await broker.enqueue(`sidekiq:${q}`, [{name: 'HardJob', payload: '[3]'}])
    const older = await raw.lindex(k(`queue:${q}`), 0)
    expect(older).toMatch(/"enqueued_at":\d{10}\.\d+[,}]/)
    expect(JSON.parse(older!).enqueued_at * 1000).toBeGreaterThanOrEqual(before - 1)
  })

  it('with no process: the existing jobs’ format, else float seconds (with a fraction, which Sidekiq 8 reads as seconds)', async () => {
    const {broker, k, q} = await space()
    await broker.enqueue(`sidekiq:${q}`, [{name: 'HardJob', payload: '[1]'}])
    const first = (await raw.lindex(k(`queue:${q}`), 0))!
    expect(first).toMatch(/"created_at":\d{10}\.\d+,/)
    expect(first).toMatch(/"enqueued_at":\d{10}\.\d+}/)

    const other = 'q8'
    await raw.sadd(k('queues'), other)
    await raw.lpush(k(`queue:${other}`), sidekiq8Job(other, 'HardJob', [1], JID, Date.now() - 10, Date.now()))
    await broker.enqueue(`sidekiq:${other}`, [{name: 'HardJob', payload: '[2]'}])
    expect(JSON.parse((await raw.lindex(k(`queue:${other}`), 0))!)).toMatchObject({args: [2], created_at: expect.any(Number)})
    expect(await raw.lindex(k(`queue:${other}`), 0)).toMatch(/"enqueued_at":\d{13}}/)
  })

  it('an exported Sidekiq 8 job imported where Sidekiq 7 runs keeps class, args, jid and fields, its times in seconds', async () => {
    const {broker, k, q} = await space()
    await raw.sadd(k('queues'), q)
    await raw.lpush(k(`queue:${q}`), sidekiq8Job(q, 'HardJob', [1, {a: 'b'}], JID, 1_796_604_633_686, 1_796_604_693_686))
    const [m] = await broker.peek(`sidekiq:${q}`, {limit: 1})
    await process(k, sidekiq8Process('box:3:cc', 'dest', '7.3.9'), 'box:3:cc')
    await broker.enqueue('sidekiq:dest', [{payload: m!.payload, name: m!.name, headers: m!.headers, contentType: m!.contentType}])
    const job = JSON.parse((await raw.lindex(k('queue:dest'), 0))!) as Record<string, unknown>
    expect(job).toMatchObject({class: 'HardJob', args: [1, {a: 'b'}], jid: JID, queue: 'dest', retry: true, created_at: 1_796_604_633.686})
    expect(job.enqueued_at as number).toBeLessThan(1e11)
  })
})
