// asynq (Go). No asynq package is installed on this machine, so the tasks below are written
// exactly as asynq's own Lua scripts write them (internal/rdb: enqueueCmd, scheduleCmd, retryCmd,
// archiveCmd, markAsCompleteCmd), with TaskMessage protobufs built from internal/proto/asynq.proto
// by queuectl's small hand-written encoder (checked against hand-computed wire bytes in
// formats.test.ts). What queuectl enqueues is checked the same way, field by field.
import {randomUUID} from 'node:crypto'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {decodeAsynqTask, encodeAsynqTask, type AsynqTask} from '../../../src/adapters/redis/flavors/asynq-proto.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {LIB_DB, REDIS_HOST, libUrl, openLib, uniqueName} from './helpers.js'

const DB = LIB_DB.asynq
const URL = libUrl(DB)
const home = isolatedHome()
const cli = (args: string[]) => runCli([...args, '--url', URL], {env: home, timeoutMs: 90_000})
const day = () => new Date().toISOString().slice(0, 10)
const nowS = () => Math.floor(Date.now() / 1000)

type State = 'pending' | 'active' | 'scheduled' | 'retry' | 'archived' | 'completed'

describe('redis asynq (tasks written as asynq writes them)', {timeout: 120_000}, () => {
  let broker: Broker
  let raw: Redis
  const queues: string[] = []
  const queue = (hint: string) => {
    const q = uniqueName(hint)
    queues.push(q)
    return q
  }

  /** One task in a state, with the keys and fields asynq's scripts set for that state. */
  async function put(q: string, state: State, fields: Partial<AsynqTask> = {}, score?: number): Promise<string> {
    const id = randomUUID()
    const p = `asynq:{${q}}:`
    const msg = encodeAsynqTask({type: 'email:deliver', payload: Buffer.from(JSON.stringify({to: `${state}@example.com`})), id, queue: q, retry: 25, timeout: 1800, ...fields})
    await raw.sadd('asynq:queues', q)
    const hash: Record<string, string | Buffer> = {msg, state}
    if (state === 'pending') hash.pending_since = String(BigInt(Date.now()) * 1_000_000n)
    await raw.hset(`${p}t:${id}`, hash)
    if (state === 'pending' || state === 'active') await raw.lpush(`${p}${state}`, id)
    else await raw.zadd(`${p}${state}`, score ?? nowS(), id)
    return id
  }

  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    broker = await openLib(DB)
  })

  afterAll(async () => {
    await broker?.close()
    for (const q of queues) {
      for await (const keys of raw.scanStream({match: `asynq:{${q}}:*`, count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
      await raw.srem('asynq:queues', q)
    }
    raw.disconnect()
  })

  it('every state counted and decoded: pending, active, scheduled, retry, archived, completed; paused; daily counters', async () => {
    const q = queue('states')
    const p = `asynq:{${q}}:`
    const first = await put(q, 'pending')
    await put(q, 'pending')
    const active = await put(q, 'active')
    const due = nowS() + 3600
    const scheduled = await put(q, 'scheduled', {}, due)
    const retry = await put(q, 'retry', {retried: 1, errorMsg: 'smtp: 451 try later', lastFailedAt: nowS()}, due)
    const archived = await put(q, 'archived', {retried: 25, errorMsg: 'smtp: 550 no such user', lastFailedAt: nowS()})
    await put(q, 'completed', {completedAt: nowS(), retention: 3600}, nowS() + 3600)
    await raw.set(`${p}paused`, String(nowS()))
    await raw.set(`${p}processed:${day()}`, '7')
    await raw.set(`${p}failed:${day()}`, '2')
    await raw.set(`${p}processed`, '70')
    await raw.set(`${p}failed`, '20')

    const stats = await broker.stats(`asynq:${q}`)
    expect(stats).toMatchObject({kind: 'asynq', paused: true, counts: {waiting: 2, inflight: 1, delayed: 1, retry: 1, dead: 1, completed: 1}})
    expect(stats.details).toEqual({processedToday: 7, failedToday: 2, processed: 70, failed: 20})
    expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(0)

    const waiting = await broker.peek(`asynq:${q}`, {limit: 10})
    expect(waiting[0]).toMatchObject({id: first, name: 'email:deliver', state: 'waiting', attempts: 0, body: {to: 'pending@example.com'}, headers: {retry: '25', retried: '0', timeout: '1800s'}})
    expect((await broker.peek(`asynq:${q}`, {limit: 10, state: 'inflight'}))[0]).toMatchObject({id: active, attempts: 1})
    const [s] = await broker.peek(`asynq:${q}`, {limit: 10, state: 'delayed'})
    expect(s).toMatchObject({id: scheduled, availableAt: due * 1000})
    const [r] = await broker.peek(`asynq:${q}`, {limit: 10, state: 'retry'})
    expect(r).toMatchObject({id: retry, attempts: 1, lastError: 'smtp: 451 try later', availableAt: due * 1000})
    const [a] = await broker.peek(`asynq:${q}`, {limit: 10, state: 'dead'})
    expect(a).toMatchObject({id: archived, state: 'dead', attempts: 25, lastError: 'smtp: 550 no such user'})
    expect((await broker.peek(`asynq:${q}`, {limit: 10, state: 'completed'}))[0]!.name).toBe('email:deliver')

    // and `queue inspect` with no flag finds it among the others
    const listed = await cli(['inspect', '--json'])
    expect(listed.code).toBe(0)
    const found = (JSON.parse(listed.stdout) as {queues: {name: string; paused?: boolean; counts: Record<string, number>}[]}).queues.filter((x) => x.name.includes(q))
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({name: `asynq:${q}`, paused: true, counts: {waiting: 2, dead: 1}})
  })

  it('a task whose protobuf is truncated is listed as undecodable; the others and the counts still work', async () => {
    const q = queue('truncated')
    const good = await put(q, 'pending')
    const bad = await put(q, 'pending')
    const key = `asynq:{${q}}:t:${bad}`
    const whole = (await raw.hgetBuffer(key, 'msg'))!
    // cut inside the payload field (type 'email:deliver' is bytes 0–14): a length that runs past the end
    await raw.hset(key, 'msg', whole.subarray(0, 20))
    const peeked = await broker.peek(`asynq:${q}`, {limit: 10})
    expect(peeked.map((m) => m.id)).toEqual([good, bad])
    expect(peeked[0]!.undecodable).toBeUndefined()
    expect(peeked[1]!.undecodable).toMatch(/not a valid TaskMessage protobuf: truncated/)
    expect(peeked[1]!.payload.length).toBe(20)
    expect((await broker.stats(`asynq:${q}`)).counts.waiting).toBe(2)
    const shown = await cli(['inspect', `asynq:${q}`, '--peek', '5'])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('<undecodable: asynq task message is not a valid TaskMessage protobuf')
  })

  it('queue enqueue asynq:NAME writes what asynq’s client writes (pending and scheduled), field by field', async () => {
    const q = queue('enqueue')
    const sent = await cli(['enqueue', `asynq:${q}`, '--name', 'email:deliver', '{"to":"ada@example.com"}', '-H', 'trace=t-1'])
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    const id = sent.stdout.trim()
    const p = `asynq:{${q}}:`
    expect(await raw.sismember('asynq:queues', q)).toBe(1)
    expect(await raw.lrange(`${p}pending`, 0, -1)).toEqual([id])
    const hash = await raw.hgetallBuffer(`${p}t:${id}`)
    expect(hash.state!.toString()).toBe('pending')
    expect(Number(hash.pending_since!.toString()) / 1e6).toBeGreaterThan(Date.now() - 120_000)
    const task = decodeAsynqTask(hash.msg!)
    expect(task).toMatchObject({type: 'email:deliver', id, queue: q, retry: 25, retried: 0, timeout: 1800, deadline: 0, headers: {trace: 't-1'}})
    expect(task.payload.toString()).toBe('{"to":"ada@example.com"}')

    const [later] = await broker.enqueue(`asynq:${q}`, [{name: 'email:digest', payload: 'x', delayMs: 3_600_000}])
    const score = Number(await raw.zscore(`${p}scheduled`, later!))
    expect(score - nowS()).toBeGreaterThan(3500)
    expect((await raw.hget(`${p}t:${later}`, 'state'))).toBe('scheduled')
    expect((await broker.stats(`asynq:${q}`)).counts).toMatchObject({waiting: 1, delayed: 1})
    // a task needs a type
    const noType = await cli(['enqueue', `asynq:${q}`, '{}'])
    expect(noType.code).toBe(2)
    expect(noType.stderr).toMatch(/--name/)
  }, 120_000)

  it('retry runs archived and retry tasks again (back to pending), pause and resume set asynq’s paused key', async () => {
    const q = queue('ops')
    const p = `asynq:{${q}}:`
    const dead = await put(q, 'archived', {retried: 3, errorMsg: 'x'})
    const later = await put(q, 'retry', {retried: 1, errorMsg: 'y'}, nowS() + 600)
    expect(await broker.retry(`asynq:${q}`, {state: 'dead'})).toBe(1)
    expect(await broker.retry(`asynq:${q}`, {state: 'retry', ids: [later]})).toBe(1)
    expect(await raw.lrange(`${p}pending`, 0, -1)).toEqual([later, dead])
    expect(await raw.hget(`${p}t:${dead}`, 'state')).toBe('pending')
    expect(await raw.zcard(`${p}archived`)).toBe(0)
    await broker.pause(`asynq:${q}`)
    expect(await raw.exists(`${p}paused`)).toBe(1)
    expect((await broker.stats(`asynq:${q}`)).paused).toBe(true)
    await broker.resume(`asynq:${q}`)
    expect((await broker.stats(`asynq:${q}`)).paused).toBe(false)
    expect(await broker.purge(`asynq:${q}`, 'waiting')).toBe(2)
    expect(await raw.exists(`${p}t:${dead}`, `${p}t:${later}`)).toBe(0)
  })
})
