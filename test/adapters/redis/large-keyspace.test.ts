// 1M unrelated keys: detection still finishes, bounded by its SCAN budget, and says when it
// stopped early. Uses the spare db only, emptied (FLUSHDB of that db alone) afterwards.
import {Queue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {QueueList} from '../../../src/broker/contract.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const KEYS = 1_000_000
const POPULATE = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('SET', 'junk:' .. i, 'x') end return 1`

describe('redis detection on 1M unrelated keys', () => {
  let raw: Redis
  let bull: Queue
  beforeAll(async () => {
    raw = new Redis({host, port: Number(port), db: DB.spare})
    await raw.flushdb()
    // chunks of 50k so the shared server is never blocked for long
    for (let i = 0; i < KEYS; i += 50_000) await raw.eval(POPULATE, 0, i, i + 49_999)
    await raw.lpush('needle', 'x')
    await raw.xadd('events', '*', 'payload', 'y')
    bull = new Queue('emails', {connection: raw})
    await bull.add('welcome', {n: 1})
  }, 120_000)
  afterAll(async () => {
    await bull?.close()
    await raw?.flushdb()
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
      if (list.length < 3) expect(list.incomplete).toMatch(/scanBudgetMs/)
    } finally {
      await broker.close()
    }
  }, 60_000)

  it('with enough budget it finds exactly the queues, none of the junk', async () => {
    const broker = await openRedis(`redis://${REDIS_HOST}/${DB.spare}?scanBudgetMs=120000`)
    try {
      const list: QueueList = await broker.listQueues()
      expect(list.map((r) => r.name)).toEqual(['bullmq:emails', 'list:needle', 'stream:events'])
      expect(list.incomplete).toBeUndefined()
    } finally {
      await broker.close()
    }
  }, 150_000)

  it('a bare name and a kind:name resolve on the big keyspace', async () => {
    const broker = await openRedis(`redis://${REDIS_HOST}/${DB.spare}?scanBudgetMs=2000`)
    try {
      expect((await broker.stats('list:needle')).counts.waiting).toBe(1)
      expect((await broker.stats('needle')).name).toBe('list:needle')
      expect((await broker.stats('emails')).counts.waiting).toBe(1)
    } finally {
      await broker.close()
    }
  }, 60_000)
})
