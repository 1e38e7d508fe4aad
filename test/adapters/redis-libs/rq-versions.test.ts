// RQ 2.x (not in Debian: fixtures from its source, ./fixtures/rq.ts): the started registry holds
// executions (`<job id>:<execution id>`), several for one job at times; in-flight counts and peeks
// count and show each job once, as RQ 1's bare ids did (the interop test runs RQ 1.13 for those).
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {LIB_DB, REDIS_HOST, openLib, uniqueName} from './helpers.js'
import {rq2Execution, rq2StartedJob} from './fixtures/rq.js'

const DB = LIB_DB.rq

describe('redis rq 2.x started registry (source-derived fixtures)', () => {
  let raw: Redis
  let broker: Broker
  const keys: string[] = []
  const queues: string[] = []

  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    broker = await openLib(DB)
  })
  afterAll(async () => {
    await broker?.close()
    if (keys.length > 0) await raw.del(...keys)
    for (const q of queues) await raw.srem('rq:queues', `rq:queue:${q}`)
    raw.disconnect()
  })

  it('two jobs running, one with two executions: in flight 2, each job peeked once with its executions', async () => {
    const q = uniqueName('rq2')
    queues.push(q)
    const now = Date.now()
    const [a, b] = [`${q}-job-a`.replace(/[^a-z0-9-]/gi, ''), `${q}-job-b`.replace(/[^a-z0-9-]/gi, '')]
    await raw.sadd('rq:queues', `rq:queue:${q}`)
    const wip = `rq:wip:${q}`
    keys.push(wip, `rq:job:${a}`, `rq:job:${b}`)
    await raw.hset(`rq:job:${a}`, rq2StartedJob(q, 'app.tasks.send', now - 60_000, now - 30_000, 'w1'))
    await raw.hset(`rq:job:${b}`, rq2StartedJob(q, 'app.tasks.build', now - 50_000, now - 20_000, 'w2'))
    const execs = [rq2Execution(a, 'e0a1', 'w1', now - 40_000), rq2Execution(a, 'e0a2', 'w1', now - 30_000), rq2Execution(b, 'e0b1', 'w2', now - 20_000)]
    for (const e of execs) {
      keys.push(e.key)
      await raw.hset(e.key, e.hash)
    }
    const later = String(Math.floor(now / 1000) + 600)
    await raw.zadd(wip, later, execs[0]!.member, later, execs[1]!.member, '+inf', execs[2]!.member)
    // an execution whose ttl ran out (a dead work-horse RQ's cleanup has not removed yet) is not in flight
    await raw.zadd(wip, String(Math.floor(now / 1000) - 10), `${q}-gone:e0c1`)

    const stats = await broker.stats(`rq:${q}`)
    expect(stats.counts.inflight).toBe(2)
    const running = await broker.peek(`rq:${q}`, {limit: 10, state: 'inflight'})
    expect(running.map((m) => m.id)).toEqual([a, b])
    expect(running[0]!.undecodable).toBeUndefined()
    expect(running[0]).toMatchObject({name: 'app.tasks.send', headers: {status: 'started', worker_name: 'w1', executions: 'e0a1,e0a2'}})
    expect(running[1]).toMatchObject({name: 'app.tasks.build', headers: {executions: 'e0b1'}})
    expect(running[0]!.enqueuedAt).toBe(now - 60_000)
    expect(await broker.peek(`rq:${q}`, {limit: 1, state: 'inflight'})).toHaveLength(1)
  })
})
