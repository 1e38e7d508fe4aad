// A stream consumer with nothing to read waits in Redis (XREADGROUP BLOCK on a connection of its
// own) instead of sleeping between polls: before, the poll loop's pause doubled up to 100 ms while
// the stream was empty, so at a trickle each entry waited out part of a sleep (an open-loop tail
// of the consumer's own making). Acks keep flowing on the command connection meanwhile.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {startRedis} from './private-server.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const key = `wt-trickle-${process.pid}-${Date.now().toString(36)}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('redis stream consume latency at a trickle', () => {
  let broker: Broker
  let raw: Redis
  beforeAll(async () => {
    raw = new Redis({host, port: Number(port), db: DB.stream})
    broker = await openRedis(`redis://${REDIS_HOST}/${DB.stream}`)
  })
  afterAll(async () => {
    await broker?.close()
    await raw.del(key)
    raw.disconnect()
  })

  it('an entry added every 30 ms is handed out within a few ms, not after the rest of an idle sleep', async () => {
    await broker.createQueue(`stream:${key}`)
    const latencies: number[] = []
    const sub = await broker.consume(`stream:${key}`, (lease) => {
      latencies.push(Date.now() - Number(lease.message.payload.toString()))
      void lease.ack()
    }, {prefetch: 8})
    try {
      await sleep(300) // idle: the old loop's pause had grown to its longest
      for (let i = 0; i < 30; i++) {
        await raw.xadd(key, '*', 'payload', String(Date.now()))
        await sleep(30)
      }
      for (let t = 0; latencies.length < 30 && t < 100; t++) await sleep(50)
    } finally {
      await sub.close()
    }
    expect(latencies).toHaveLength(30)
    const [info] = (await raw.xinfo('GROUPS', key)) as unknown[][]
    expect(Number(info![info!.indexOf('pending') + 1])).toBe(0) // every entry acked
    const median = [...latencies].sort((a, b) => a - b)[15]!
    // measured at load ~20: median 1 ms now, 9 ms with the old sleeps (and 70–100 ms after an idle spell)
    expect(median).toBeLessThan(5)
  }, 30_000)

  it('close() of a consumer waiting in XREADGROUP BLOCK ends the read with CLIENT UNBLOCK, not after the rest of the block', async () => {
    // counted, not timed (a close's time is the machine's load as much as the block's rest), on a
    // server of its own: its CLIENT UNBLOCK calls are this test's alone (MONITOR does not show them)
    const server = await startRedis()
    const own = new Redis({host: '127.0.0.1', port: server.port})
    const private_ = await openRedis(`redis://127.0.0.1:${server.port}`)
    const name = `${key}-close`
    try {
      await private_.createQueue(`stream:${name}`)
      await own.config('RESETSTAT')
      for (let i = 0; i < 5; i++) {
        const sub = await private_.consume(`stream:${name}`, (lease) => void lease.ack(), {prefetch: 8})
        await sleep(120 + i * 17) // idle, blocked in Redis
        await sub.close()
      }
      const stats = (await own.info('commandstats')).split('\r\n')
      const unblocks = /calls=(\d+)/.exec(stats.find((l) => l.startsWith('cmdstat_client|unblock:')) ?? '')?.[1]
      expect(Number(unblocks ?? 0)).toBe(5)
      // the unblocked read delivered nothing: nothing left pending, no consumer left behind
      const [info] = (await own.xinfo('GROUPS', name)) as unknown[][]
      expect(Number(info![info!.indexOf('pending') + 1])).toBe(0)
      expect(Number(info![info!.indexOf('consumers') + 1])).toBe(0)
    } finally {
      await private_.close()
      own.disconnect()
      await server.stop()
    }
  }, 30_000)
})
