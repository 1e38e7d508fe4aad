// 1M unrelated keys: detection still finishes, bounded by its SCAN budget, and says when it
// stopped early. On the spare db, which other suites share while this runs: every key of this
// test carries its tag, and only those are deleted afterwards (never FLUSHDB).
import {Queue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {QueueList} from '../../../src/broker/contract.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const KEYS = 1_000_000
const tag = `lk-${process.pid}-${Date.now().toString(36)}`
const POPULATE = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('SET', ARGV[3] .. ':junk:' .. i, 'x') end return 1`
const UNLINK = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('UNLINK', ARGV[3] .. ':junk:' .. i) end return 1`

describe('redis detection on 1M unrelated keys', () => {
  let raw: Redis
  let bull: Queue
  beforeAll(async () => {
    raw = new Redis({host, port: Number(port), db: DB.spare})
    // chunks of 50k so the shared server is never blocked for long
    for (let i = 0; i < KEYS; i += 50_000) await raw.eval(POPULATE, 0, i, i + 49_999, tag)
    await raw.lpush(`${tag}-needle`, 'x')
    await raw.xadd(`${tag}-events`, '*', 'payload', 'y')
    bull = new Queue(`${tag}-emails`, {connection: raw})
    await bull.add('welcome', {n: 1})
  }, 120_000)
  afterAll(async () => {
    await bull?.obliterate({force: true}).catch(() => {})
    await bull?.close()
    for (let i = 0; i < KEYS; i += 50_000) await raw?.eval(UNLINK, 0, i, i + 49_999, tag)
    await raw?.unlink(`${tag}-needle`, `${tag}-events`)
    raw?.disconnect()
  }, 60_000)

  it('listQueues with a short budget returns within it and says the list may be incomplete', async () => {
    const budget = 1000
    const broker = await openRedis(`redis://${REDIS_HOST}/${DB.spare}?scanBudgetMs=${budget}`)
    try {
      const started = Date.now()
      const list: QueueList = await broker.listQueues()
      const ms = Date.now() - started
      expect(ms).toBeLessThan(budget + 5000) // bounded: one SCAN call past the deadline at most, on a busy machine
      expect(list.every((r) => !r.name.includes('junk:'))).toBe(true)
      if (list.filter((r) => r.name.includes(tag)).length < 3) expect(list.incomplete).toMatch(/scanBudgetMs/)
    } finally {
      await broker.close()
    }
  }, 60_000)

  it('with enough budget it finds exactly the queues, none of the junk', async () => {
    const broker = await openRedis(`redis://${REDIS_HOST}/${DB.spare}?scanBudgetMs=120000`)
    try {
      const list: QueueList = await broker.listQueues()
      // the shared db's other queues aside
      expect(list.map((r) => r.name).filter((n) => n.includes(tag))).toEqual([`bullmq:${tag}-emails`, `list:${tag}-needle`, `stream:${tag}-events`])
      expect(list.incomplete).toBeUndefined()
    } finally {
      await broker.close()
    }
  }, 150_000)

  it('a bare name and a kind:name resolve on the big keyspace', async () => {
    const broker = await openRedis(`redis://${REDIS_HOST}/${DB.spare}?scanBudgetMs=2000`)
    try {
      expect((await broker.stats(`list:${tag}-needle`)).counts.waiting).toBe(1)
      expect((await broker.stats(`${tag}-needle`)).name).toBe(`list:${tag}-needle`)
      expect((await broker.stats(`${tag}-emails`)).counts.waiting).toBe(1)
    } finally {
      await broker.close()
    }
  }, 60_000)
})
