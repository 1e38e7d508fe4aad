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
import {taskOptionsOf} from '../../../src/adapters/redis/flavors/asynq.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {LIB_DB, REDIS_HOST, libUrl, openLib, uniqueName} from './helpers.js'

const DB = LIB_DB.asynq
const URL = libUrl(DB)
const home = isolatedHome()
const cli = (args: string[], input?: string) => runCli([...args, '--url', URL], {env: home, timeoutMs: 90_000, input})
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

  it('retry, move (into asynq) and export | import write tasks as enqueueCmd does: type, payload bytes, retry, timeout and headers as given', async () => {
    const src = queue('fid-src')
    const imp = queue('fid-imp')
    const mv = queue('fid-mv')
    const payloads = [Buffer.from('{"b": 2,  "a":[1, {"é":null}]}'), Buffer.from('plain text ✓'), Buffer.from([0xff, 0x00, 0x80, 0x7b])]
    // tasks as asynq's client writes them with asynq.MaxRetry(3), asynq.Timeout(60s) and a header
    const given = payloads.map((payload, i) => ({type: `fid:${i}`, payload, retry: 3, timeout: 60, headers: {trace: `t${i}`}}))
    for (const g of given) await put(src, 'pending', g)
    const pendingTasks = async (q: string) => {
      const ids = (await raw.lrange(`asynq:{${q}}:pending`, 0, -1)).reverse()
      return Promise.all(ids.map(async (id) => {
        const hash = await raw.hgetallBuffer(`asynq:{${q}}:t:${id}`)
        expect({state: hash.state?.toString(), pendingSince: /^\d{19}$/.test(hash.pending_since?.toString() ?? '')}).toEqual({state: 'pending', pendingSince: true})
        return {id, task: decodeAsynqTask(hash.msg!)}
      }))
    }
    const expectAsGiven = async (q: string, want: {retry: number; timeout: number}) => {
      const tasks = await pendingTasks(q)
      expect(tasks.map(({id, task}) => ({...task, payload: task.payload.toString('hex'), idIsKey: task.id === id}))).toEqual(
        given.map((g) => ({type: g.type, payload: g.payload.toString('hex'), id: expect.any(String), idIsKey: true, queue: q, retry: want.retry, retried: 0, errorMsg: '', timeout: want.timeout, deadline: 0, uniqueKey: '', lastFailedAt: 0, retention: 0, completedAt: 0, groupKey: '', headers: g.headers})),
      )
    }

    // export | import: asynq's own fields (shown as retry/retried/timeout) are the task's options, not headers
    const exported = await cli(['export', `asynq:${src}`])
    expect(exported.code, exported.stderr).toBe(0)
    const imported = await cli(['import', `asynq:${imp}`, '--create'], exported.stdout)
    expect(imported.code, imported.stderr).toBe(0)
    await expectAsGiven(imp, {retry: 3, timeout: 60})

    // move into asynq from a list whose messages carry a type (name) and a header: asynq's client defaults
    const list = `${mv}-list`
    try {
      for (const g of given.slice(0, 2)) expect((await cli(['enqueue', `list:${list}`, g.payload.toString('utf8'), '--name', g.type, '-H', `trace=${g.headers.trace}`])).code).toBe(0)
      const bin = await broker.enqueue(`list:${list}`, [{payload: given[2]!.payload, name: given[2]!.type, headers: given[2]!.headers}])
      expect(bin).toHaveLength(1)
      const moved = await cli(['move', `list:${list}`, `asynq:${mv}`, '--create', '--yes', '--idle', '500ms'])
      expect(moved.code, moved.stderr).toBe(0)
      await expectAsGiven(mv, {retry: 25, timeout: 1800})
    } finally {
      await raw.del(list, `{${list}}:processing`, `{${list}}:leases`, `{${list}}:dead`)
      await raw.srem('queuectl:lists', list)
    }

    // retry: asynq's runTaskCmd moves the id and sets the state; the msg (payload, headers, retried, error) stays byte for byte
    const dead = queue('fid-retry')
    const msgs: Buffer[] = []
    for (const g of given) {
      const id = await put(dead, 'archived', {...g, retried: 3, errorMsg: 'boom', lastFailedAt: nowS()})
      msgs.push((await raw.hgetBuffer(`asynq:{${dead}}:t:${id}`, 'msg'))!)
    }
    const retried = await cli(['retry', `asynq:${dead}`, '--state', 'dead', '--yes'])
    expect(retried.code, retried.stderr).toBe(0)
    const back = await pendingTasks(dead)
    expect(back).toHaveLength(3)
    const stored = await Promise.all(back.map(async ({id}) => (await raw.hgetBuffer(`asynq:{${dead}}:t:${id}`, 'msg'))!.toString('hex')))
    expect(stored.sort()).toEqual(msgs.map((m) => m.toString('hex')).sort())
  })

  it('the headers a peek shows asynq’s fields as become the new task’s options (asynq client defaults otherwise); other forms stay headers', () => {
    expect(taskOptionsOf(undefined)).toEqual({retry: 25, timeout: 1800, deadline: 0, headers: {}})
    expect(taskOptionsOf({retry: '0', timeout: '5s', trace: 'x'})).toEqual({retry: 0, timeout: 5, deadline: 0, headers: {trace: 'x'}})
    // a deadline without a timeout: no default timeout, as asynq.Deadline alone
    expect(taskOptionsOf({deadline: '2030-01-01T00:00:00.000Z', retried: '4', uniqueKey: 'asynq:{q}:unique:fid:0:abc'})).toEqual({retry: 25, timeout: 0, deadline: 1893456000, headers: {}})
    expect(taskOptionsOf({retry: 'often', timeout: '5m', retried: 'no', group: 'g'})).toEqual({retry: 25, timeout: 1800, deadline: 0, headers: {retry: 'often', timeout: '5m', retried: 'no', group: 'g'}})
  })

  it('job delete and purge --where delete single tasks as asynq’s DeleteTask does: out of their list or zset, hash and unique lock gone; active tasks refused', async () => {
    const q = queue('del')
    const p = `asynq:{${q}}:`
    const keep = await put(q, 'pending')
    const gone = await put(q, 'pending', {uniqueKey: `${p}unique:email:deliver:x`})
    // enqueueUniqueCmd: the lock holds the id, the hash names the lock
    await raw.set(`${p}unique:email:deliver:x`, gone)
    await raw.hset(`${p}t:${gone}`, 'unique_key', `${p}unique:email:deliver:x`)
    const active = await put(q, 'active')
    const tenant = (n: number) => ({payload: Buffer.from(JSON.stringify({tenant: n}))})
    const dead7 = await put(q, 'archived', {retried: 25, errorMsg: 'x', ...tenant(7)})
    const dead8 = await put(q, 'archived', {retried: 25, errorMsg: 'x', ...tenant(8)})
    const later = await put(q, 'scheduled', {}, nowS() + 3600)
    const late = await put(q, 'retry', {retried: 1, errorMsg: 'y'}, nowS() + 600)

    const one = await cli(['job', 'delete', `asynq:${q}`, gone, '--yes'])
    expect(one.stderr).toBe('')
    expect(one.code).toBe(0)
    expect(await raw.lrange(`${p}pending`, 0, -1)).toEqual([keep])
    expect(await raw.exists(`${p}t:${gone}`, `${p}unique:email:deliver:x`)).toBe(0)
    const where = await cli(['purge', `asynq:${q}`, '--state', 'dead', '--where', 'body.tenant == 7', '--yes'])
    expect(where.code).toBe(0)
    expect(where.stdout).toContain('removed 1 dead job')
    expect(await raw.zrange(`${p}archived`, '0', '-1')).toEqual([dead8])
    expect(await raw.exists(`${p}t:${dead7}`)).toBe(0)
    // from the state asked only: a scheduled id is no retry task
    expect(await broker.remove(`asynq:${q}`, [later, late], 'retry')).toBe(1)
    expect(await raw.zrange(`${p}scheduled`, '0', '-1')).toEqual([later])
    expect(await broker.remove(`asynq:${q}`, [later], 'delayed')).toBe(1)
    // an active task stays with its server, as asynq refuses it
    expect(await broker.remove(`asynq:${q}`, [active], 'waiting')).toBe(0)
    const refused = await cli(['job', 'delete', `asynq:${q}`, active, '--state', 'inflight', '--yes'])
    expect(refused.code).toBe(4)
    expect(refused.stderr).toMatch(/inflight|active/)
    expect(await raw.lrange(`${p}active`, 0, -1)).toEqual([active])
    expect(await raw.hget(`${p}t:${active}`, 'state')).toBe('active')
  })

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
