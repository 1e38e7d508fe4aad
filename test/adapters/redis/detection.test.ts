// kind:name addressing, bare-name detection with SCAN, ambiguity, and keys of the wrong type.
import {Queue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const tag = `det${process.pid}${Date.now().toString(36)}`

describe('redis queue detection', () => {
  let broker: Broker
  let raw: Redis
  const bullQueues: Queue[] = []
  beforeAll(async () => {
    raw = new Redis({host, port: Number(port), db: DB.list})
    broker = await openRedis(`redis://${REDIS_HOST}/${DB.list}`)
  })
  afterAll(async () => {
    for (const q of bullQueues) await q.obliterate({force: true}).catch(() => {})
    await Promise.all(bullQueues.map((q) => q.close()))
    for await (const keys of raw.scanStream({match: `*${tag}*`, count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
    await raw.srem('queuectl:lists', ...(await raw.smembers('queuectl:lists')).filter((k) => k.includes(tag)), 'none')
    raw.disconnect()
    await broker?.close()
  })

  it('finds a bare name in its only flavor and reports it as kind:name', async () => {
    await raw.xadd(`events-${tag}`, '*', 'payload', 'hello')
    const stats = await broker.stats(`events-${tag}`)
    expect(stats.kind).toBe('stream')
    expect(stats.name).toBe(`stream:events-${tag}`)
    expect(stats.counts.waiting).toBe(1)
    const [m] = await broker.peek(`events-${tag}`, {limit: 1})
    expect(m!.payload.toString()).toBe('hello')
    expect(m!.queue).toBe(`stream:events-${tag}`)
  })

  it('a bare name in two flavors is a usage error listing both', async () => {
    const name = `emails-${tag}`
    const q = new Queue(name, {connection: raw})
    bullQueues.push(q)
    await q.add('welcome', {to: 'a@example.com'})
    await raw.lpush(name, 'plain')
    const error = await broker.stats(name).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(error?.exitCode).toBe(2)
    expect(error?.message).toContain(`bullmq:${name}, list:${name}`)
    // with the kind it is not ambiguous
    expect((await broker.stats(`bullmq:${name}`)).counts.waiting).toBe(1)
    expect((await broker.stats(`list:${name}`)).counts.waiting).toBe(1)
  })

  it('finds a BullMQ queue under a non-default prefix by its bare name', async () => {
    const name = `reports-${tag}`
    const q = new Queue(name, {connection: raw, prefix: `app-${tag}`})
    bullQueues.push(q)
    await q.add('r', {n: 1})
    const stats = await broker.stats(name)
    expect(stats.name).toBe(`bullmq:app-${tag}:${name}`)
    expect(stats.counts.waiting).toBe(1)
  })

  it('listQueues returns kind:name with the kind, and BullMQ internals are not lists', async () => {
    const list = await broker.listQueues()
    const names = list.map((r) => r.name)
    expect(names).toContain(`stream:events-${tag}`)
    expect(names).toContain(`bullmq:emails-${tag}`)
    expect(names).toContain(`list:emails-${tag}`)
    expect(list.find((r) => r.name === `list:emails-${tag}`)?.kind).toBe('list')
    expect(names.filter((n) => n.includes(`bull:emails-${tag}:`))).toEqual([]) // bull:…:wait etc. are claimed by bullmq
  })

  it('a new bare name gets the default flavor (list), a kind prefix picks another', async () => {
    await broker.enqueue(`fresh-${tag}`, [{payload: 'a'}])
    expect(await raw.type(`fresh-${tag}`)).toBe('list')
    await broker.enqueue(`stream:fresh2-${tag}`, [{payload: 'b'}])
    expect(await raw.type(`fresh2-${tag}`)).toBe('stream')
  })

  it('a key of the wrong type is reported with its type (exit 4), and enqueue refuses to touch it', async () => {
    await raw.hset(`settings-${tag}`, 'a', '1')
    const bare = await broker.stats(`settings-${tag}`).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(bare?.exitCode).toBe(4)
    expect(bare?.message).toMatch(/is a hash/)
    const asList = await broker.peek(`list:settings-${tag}`, {limit: 1}).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(asList?.exitCode).toBe(4)
    expect(asList?.message).toMatch(/is a hash, not a list/)
    const enq = await broker.enqueue(`stream:settings-${tag}`, [{payload: 'x'}]).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(enq?.exitCode).toBe(4)
    expect(await raw.hget(`settings-${tag}`, 'a')).toBe('1') // untouched
  })

  it('list and stream enqueues check the key type once per name, and a key replaced since is still refused with its type', async () => {
    const monitor = await raw.monitor()
    const typeChecks: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (String(args[0]).toLowerCase() === 'type' && [`rt-${tag}`, `rts-${tag}`].includes(String(args[1]))) typeChecks.push(String(args[1]))
    })
    try {
      for (let i = 0; i < 5; i++) {
        await broker.enqueue(`list:rt-${tag}`, [{payload: `a${i}`}])
        await broker.enqueue(`stream:rts-${tag}`, [{payload: `b${i}`}])
      }
      await raw.ping() // the monitor has seen every command sent before this one
      await new Promise((resolve) => setTimeout(resolve, 100))
      // one TYPE per name, not one per batch (each was a round trip before the push)
      expect(typeChecks.sort()).toEqual([`rt-${tag}`, `rts-${tag}`])
    } finally {
      monitor.disconnect()
    }
    expect(await raw.llen(`rt-${tag}`)).toBe(5)
    expect(await raw.xlen(`rts-${tag}`)).toBe(5)
    await raw.del(`rt-${tag}`, `rts-${tag}`)
    await raw.hset(`rt-${tag}`, 'a', '1')
    await raw.hset(`rts-${tag}`, 'a', '1')
    const list = await broker.enqueue(`list:rt-${tag}`, [{payload: 'x'}]).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(list?.exitCode).toBe(4)
    expect(list?.message).toMatch(/is a hash, not a list/)
    const stream = await broker.enqueue(`stream:rts-${tag}`, [{payload: 'x'}]).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(stream?.exitCode).toBe(4)
    expect(stream?.message).toMatch(/is a hash, not a stream/)
    expect(await raw.hgetall(`rt-${tag}`)).toEqual({a: '1'}) // untouched
  })

  it('an unknown name is not found (exit 4) with near names suggested', async () => {
    const error = await broker.stats(`event-${tag}`).then(() => undefined, (e: Error & {exitCode?: number}) => e)
    expect(error?.exitCode).toBe(4)
    expect(error?.message).toContain(`events-${tag}`)
  })

  it('plain lists written by other programs are read as raw payloads', async () => {
    await raw.lpush(`legacy-${tag}`, 'first', 'second')
    const peeked = await broker.peek(`list:legacy-${tag}`, {limit: 10})
    expect(peeked.map((m) => m.payload.toString())).toEqual(['first', 'second'])
    const ids = await broker.enqueue(`list:legacy-${tag}`, [{payload: 'third'}])
    expect(ids).toHaveLength(1)
    expect(await raw.lindex(`legacy-${tag}`, 0)).toBe('third') // stored raw: LPUSH/BRPOP programs keep working
  })
})
