// A consumer's round trips, as a raw client's at its best (bench/wire/redis-*.mjs): the acks a
// handler loop makes in one tick reach Redis as one command (a stream's as one XACK of all their
// ids, a list's as one script call over all their items; before: a pipeline of one XACK, or one
// settle script, per message, a command each for ioredis to build and Redis to run), a Bull
// fetch counts its deliveries in one script call, not one HINCRBY a job (a Bull completion that
// takes the next job counts it in its own script), a Bull enqueue checks the queue's kind once, and a stream is read with XREADGROUP BLOCK on a connection of its own, never behind the
// acks and writes of the command connection. Counted with MONITOR on this test's keys only.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {BULL_DB} from '../redis-libs/node-dbs.js'
import {commandsOn} from './monitor.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('redis acks of one tick as one command', () => {
  let broker: Broker
  let raw: Redis
  const key = `wt-acks-${process.pid}-${Date.now().toString(36)}`
  beforeAll(async () => {
    raw = new Redis({host, port: Number(port), db: DB.stream})
    broker = await openRedis(`redis://${REDIS_HOST}/${DB.stream}`)
  })
  afterAll(async () => {
    await broker?.close()
    await raw.del(key)
    raw.disconnect()
  })

  it('stream: 50 entries read in one fetch and acked at once go as one XACK of 50 ids', async () => {
    await broker.createQueue(`stream:${key}`)
    const pipe = raw.pipeline()
    for (let i = 0; i < 50; i++) pipe.xadd(key, '*', 'payload', `m${i}`)
    await pipe.exec()
    let acked = 0
    const commands = await commandsOn(DB.stream, key, async () => {
      const sub = await broker.consume(`stream:${key}`, (lease) => {
        void lease.ack().then(() => acked++)
      }, {prefetch: 64})
      for (let t = 0; acked < 50 && t < 100; t++) await sleep(50)
      await sub.close()
    })
    expect(acked).toBe(50)
    const xacks = commands.filter((c) => c[0]!.toUpperCase() === 'XACK')
    expect(xacks).toHaveLength(1)
    expect(xacks[0]!.slice(3)).toHaveLength(50)
    const [info] = (await raw.xinfo('GROUPS', key)) as unknown[][]
    expect(Number(info![info!.indexOf('pending') + 1])).toBe(0)
  }, 30_000)

  it('stream: entries are read with XREADGROUP BLOCK on a connection of its own, not on the one that acks', async () => {
    const k = `${key}-r`
    await broker.createQueue(`stream:${k}`)
    let acked = 0
    const from = new Map<string[], string>()
    const commands = await commandsOn(DB.stream, k, async () => {
      const sub = await broker.consume(`stream:${k}`, (lease) => {
        void lease.ack().then(() => acked++)
      }, {prefetch: 16})
      try {
        for (let round = 0; round < 5; round++) {
          const pipe = raw.pipeline()
          for (let i = 0; i < 40; i++) pipe.xadd(k, '*', 'payload', `m${round}-${i}`)
          await pipe.exec()
          await sleep(20)
        }
        for (let t = 0; acked < 200 && t < 100; t++) await sleep(50)
      } finally {
        await sub.close()
        await raw.del(k)
      }
    }, from)
    expect(acked).toBe(200)
    const reads = commands.filter((c) => c[0]!.toUpperCase() === 'XREADGROUP')
    const acks = commands.filter((c) => c[0]!.toUpperCase() === 'XACK')
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.every((c) => c.map((a) => a.toUpperCase()).includes('BLOCK'))).toBe(true)
    const ackers = new Set(acks.map((c) => from.get(c)))
    expect(reads.some((c) => ackers.has(from.get(c)))).toBe(false)
  }, 30_000)

  it('list: 50 items fetched at once and acked at once go as one script call over the 50 items', async () => {
    const listKey = `${key}-l`
    const processing = `{${listKey}}:processing`
    const list = await openRedis(`redis://${REDIS_HOST}/${DB.list}`)
    const rawList = new Redis({host, port: Number(port), db: DB.list})
    try {
      await list.createQueue(`list:${listKey}`)
      await rawList.lpush(listKey, ...Array.from({length: 50}, (_, i) => `m${i}`))
      let acked = 0
      const commands = await commandsOn(DB.list, processing, async () => {
        const sub = await list.consume(`list:${listKey}`, (lease) => {
          void lease.ack().then(() => acked++)
        }, {prefetch: 64})
        for (let t = 0; acked < 50 && t < 100; t++) await sleep(50)
        await sub.close()
      })
      expect(acked).toBe(50)
      // script calls whose first key is the processing list: the settles (the fetch's first key is the list)
      const settles = commands.filter((c) => /^EVAL/i.test(c[0]!) && c[3] === processing)
      expect(settles).toHaveLength(1)
      expect(settles[0]!.slice(5)).toHaveLength(50)
      expect(await rawList.llen(processing)).toBe(0)
      expect(await rawList.zcard(`{${listKey}}:leases`)).toBe(0)
    } finally {
      await list.deleteQueue(`list:${listKey}`).catch(() => {})
      await list.close()
      rawList.disconnect()
    }
  }, 30_000)

  it('bull: 30 jobs taken in one fetch have their deliveries counted in one script call, no HINCRBY a job', async () => {
    const q = `${key}-b`
    const bull = await openRedis(`redis://${REDIS_HOST}/${BULL_DB}`)
    try {
      await bull.createQueue(`bull:${q}`)
      await bull.enqueue(`bull:${q}`, Array.from({length: 30}, (_, i) => ({payload: `{"n":${i}}`, contentType: 'application/json'})))
      const attempts: number[] = []
      const commands = await commandsOn(BULL_DB, `bull:${q}:`, async () => {
        const sub = await bull.consume(`bull:${q}`, (lease) => {
          attempts.push(lease.message.attempts)
          void lease.ack()
        }, {prefetch: 64})
        for (let t = 0; attempts.length < 30 && t < 100; t++) await sleep(50)
        await sub.close()
      })
      expect(attempts).toStrictEqual(Array.from({length: 30}, () => 1))
      expect(commands.filter((c) => c[0]!.toUpperCase() === 'HINCRBY')).toHaveLength(0)
      const counted = commands.filter((c) => /^EVAL/i.test(c[0]!) && c.slice(3).every((k) => /^bull:.*:\d+$/.test(k)) && c.length > 3)
      expect(counted.map((c) => Number(c[2]))).toStrictEqual([30])
    } finally {
      await bull.deleteQueue(`bull:${q}`).catch(() => {})
      await bull.close()
    }
  }, 30_000)

  it('bull: a busy consumer makes one script call a job, the completion that takes the next job also counting its delivery', async () => {
    const q = `${key}-b1`
    const bull = await openRedis(`redis://${REDIS_HOST}/${BULL_DB}`)
    const rawBull = new Redis({host, port: Number(port), db: BULL_DB})
    const total = 200
    try {
      await bull.createQueue(`bull:${q}`)
      await bull.enqueue(`bull:${q}`, Array.from({length: total}, (_, i) => ({payload: `{"n":${i}}`, contentType: 'application/json'})))
      const attempts: number[] = []
      const commands = await commandsOn(BULL_DB, `bull:${q}:`, async () => {
        const sub = await bull.consume(`bull:${q}`, (lease) => {
          attempts.push(lease.message.attempts)
          void lease.ack()
        }, {prefetch: 8})
        for (let t = 0; attempts.length < total && t < 200; t++) await sleep(50)
        await sub.close()
      })
      expect(attempts).toStrictEqual(Array.from({length: total}, () => 1))
      const scripts = commands.filter((c) => /^EVAL/i.test(c[0]!))
      // the completions (first key: active), one a job; before, each next job's delivery was counted by a script of its own
      expect(scripts.filter((c) => c[3] === `bull:${q}:active`)).toHaveLength(total)
      const countsOfOne = scripts.filter((c) => c[2] === '1' && /^bull:.*:\d+$/.test(c[3]!))
      expect(countsOfOne.length).toBeLessThan(10)
      const ids = await rawBull.zrange(`bull:${q}:completed`, '0', '-1')
      expect(ids).toHaveLength(total)
      const started = await Promise.all(ids.map((id) => rawBull.hget(`bull:${q}:${id}`, 'attemptsStarted')))
      expect(started.every((s) => s === '1')).toBe(true)
    } finally {
      await bull.deleteQueue(`bull:${q}`).catch(() => {})
      await bull.close()
      rawBull.disconnect()
    }
  }, 30_000)

  it('bull: an enqueue says when its batch is written, so the next batch goes out before its reply, and the order holds', async () => {
    const q = `${key}-b3`
    const bull = await openRedis(`redis://${REDIS_HOST}/${BULL_DB}`)
    try {
      await bull.createQueue(`bull:${q}`)
      const batch = (from: number) => Array.from({length: 50}, (_, i) => ({payload: `{"n":${from + i}}`, contentType: 'application/json'}))
      let second: Promise<string[]> | undefined
      let firstAnswered = false
      const first = bull.enqueue(`bull:${q}`, batch(0), {
        onWritten: () => {
          expect(firstAnswered).toBe(false)
          second = bull.enqueue(`bull:${q}`, batch(50))
        },
      })
      const ids = await first
      firstAnswered = true
      expect(second).toBeDefined()
      const all = [...ids, ...(await second!)]
      expect(new Set(all).size).toBe(100)
      const waiting = await bull.peek(`bull:${q}`, {limit: 100})
      expect(waiting.map((m) => JSON.parse(m.payload.toString()).n)).toStrictEqual(Array.from({length: 100}, (_, i) => i))
      expect(waiting.map((m) => m.id)).toStrictEqual(all)
    } finally {
      await bull.deleteQueue(`bull:${q}`).catch(() => {})
      await bull.close()
    }
  }, 30_000)

  it('bull: enqueues to one queue check that it is not BullMQ\'s once, not before every batch', async () => {
    const q = `${key}-b2`
    const bull = await openRedis(`redis://${REDIS_HOST}/${BULL_DB}`)
    try {
      const commands = await commandsOn(BULL_DB, `bull:${q}:`, async () => {
        for (let i = 0; i < 5; i++) await bull.enqueue(`bull:${q}`, [{payload: `{"n":${i}}`, contentType: 'application/json'}])
      })
      expect(commands.filter((c) => c[0]!.toUpperCase() === 'TYPE' && c[1] === `bull:${q}:id`)).toHaveLength(1)
      expect((await bull.stats(`bull:${q}`)).counts.waiting).toBe(5)
    } finally {
      await bull.deleteQueue(`bull:${q}`).catch(() => {})
      await bull.close()
    }
  }, 30_000)
})
