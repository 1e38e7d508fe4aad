// BullMQ's enqueue round trips, as BullMQ's own at its best (bench/wire/bullmq.mjs): an enqueue
// writes its addBulk pipeline at the call and says so (onWritten), so the next batch goes out
// before the reply, storing what Queue#addBulk stores.
import {Queue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const msgs = (from: number, n: number) => Array.from({length: n}, (_, i) => ({payload: `{"n":${from + i}}`, contentType: 'application/json'}))

describe('bullmq round trips', () => {
  let broker: Broker
  let raw: Redis
  const key = `wt-bullmq-rt-${process.pid}-${Date.now().toString(36)}`
  beforeAll(async () => {
    raw = new Redis({host, port: Number(port), db: DB.bullmq, maxRetriesPerRequest: null})
    broker = await openRedis(`redis://${REDIS_HOST}/${DB.bullmq}?flavor=bullmq`)
  })
  afterAll(async () => {
    await broker?.close()
    raw.disconnect()
  })

  it('an enqueue says when its batch is written, so the next batch goes out before its reply, and the order holds', async () => {
    const q = `bullmq:${key}-e1`
    try {
      await broker.createQueue(q)
      let second: Promise<string[]> | undefined
      let firstAnswered = false
      const first = broker.enqueue(q, msgs(0, 50), {
        onWritten: () => {
          expect(firstAnswered).toBe(false)
          second = broker.enqueue(q, msgs(50, 50))
        },
      })
      const ids = await first
      firstAnswered = true
      expect(second).toBeDefined()
      const all = [...ids, ...(await second!)]
      expect(new Set(all).size).toBe(100)
      const waiting = await broker.peek(q, {limit: 100})
      expect(waiting.map((m) => JSON.parse(m.payload.toString()).n)).toStrictEqual(Array.from({length: 100}, (_, i) => i))
      expect(waiting.map((m) => m.id)).toStrictEqual(all)
    } finally {
      await broker.deleteQueue(q).catch(() => {})
    }
  }, 30_000)

  it('an enqueued job is stored as Queue#addBulk stores it, field by field', async () => {
    const q = `${key}-e2`
    const lib = new Queue(q, {connection: raw})
    try {
      const [ours] = await broker.enqueue(`bullmq:${q}`, [{payload: '{"a":1}', contentType: 'application/json', headers: {h: 'v'}, priority: 3}])
      const stored = (await lib.getJob(ours!))!
      const [theirs] = await lib.addBulk([{name: stored.name, data: stored.data, opts: stored.opts}])
      const [a, b] = await Promise.all([raw.hgetall(`bull:${q}:${ours}`), raw.hgetall(`bull:${q}:${theirs!.id}`)])
      expect(Object.keys(a).sort()).toStrictEqual(Object.keys(b).sort())
      for (const field of Object.keys(a)) if (field !== 'timestamp') expect([field, a[field]]).toStrictEqual([field, b[field]])
      expect(stored.data).toStrictEqual({a: 1})
    } finally {
      await lib.obliterate({force: true})
      await lib.close()
    }
  }, 30_000)
})
