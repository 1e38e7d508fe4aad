// --where pushed down to Redis on BullMQ and Bull (a read-only script that ships only the jobs that
// can match): the answers equal the library's own getters plus a filter in JS and the client-side
// CEL test, and the pushdown really narrows the scan (matches behind 500 others with limit 2).
import Bull from 'bull'
import {Queue, Worker} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'
import {MATCH_IDS} from '../../src/adapters/redis/flavors/job-match.js'
import {runScript} from '../../src/adapters/redis/scripts.js'
import type {Broker, MessageState, PeekMatch} from '../../src/broker/contract.js'
import {compileWhere} from '../../src/services/find/expression.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {PrivateRedis, freePort} from '../reliability/harness.js'
import {clusterUrl, openRedis} from '../adapters/redis/targets.js'
import {FIND_REDIS, dropBullQueue, findUrl} from './bullmq-jobs.js'

const env = isolatedHome()
const tag = `wt-pushdown-${process.pid}-${Date.now().toString(36)}`
const ids = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as {id: string}).id).sort()

describe('--where pushed down on BullMQ', {timeout: 120_000}, () => {
  let broker: Broker
  let connection: Redis
  const names: string[] = []
  const queue = (suffix: string) => {
    names.push(`${tag}-${suffix}`)
    return new Queue(`${tag}-${suffix}`, {connection})
  }
  const peekIds = async (q: string, state: MessageState, limit: number, match?: PeekMatch) =>
    (await broker.peek(`bullmq:${q}`, {state, limit, ...(match ? {match} : {})})).map((m) => m.id)
  beforeAll(async () => {
    connection = new Redis({...FIND_REDIS, maxRetriesPerRequest: null})
    broker = await createBroker(findUrl, {timeoutMs: 10_000})
    await broker.connect()
  })
  afterAll(async () => {
    await broker?.close()
    for (const name of names) await dropBullQueue(name)
    connection.disconnect()
  })

  it('find --state failed --where body.tenant == 42 equals getJobs([failed]) + a JS filter', async () => {
    const q = queue('failed')
    const tenants: unknown[] = [42, 7, '42', 42, 42.0, 43, null, {n: 42}, 42]
    await q.addBulk(tenants.map((tenant, i) => ({name: i % 2 ? 'sms' : 'email', data: {tenant, i}})))
    await q.add('ok', {tenant: 42})
    const worker = new Worker(q.name, async (job) => {
      if (job.name !== 'ok') throw new Error(`failed ${job.data.i}`)
    }, {connection: connection.duplicate()})
    const end = Date.now() + 30_000
    while ((await q.getFailedCount()) < tenants.length || (await q.getCompletedCount()) < 1) {
      if (Date.now() > end) throw new Error('the BullMQ worker did not settle the jobs in 30 s')
      await new Promise((r) => setTimeout(r, 50))
    }
    await worker.close(true)
    const expected = (await q.getJobs(['failed'], 0, -1)).filter((j) => j.data.tenant === 42).map((j) => j.id!).sort()
    expect(expected).toHaveLength(4)
    const r = await runCli(['find', `bullmq:${q.name}`, '--state', 'dead', '--where', 'body.tenant == 42', '--json', '--url', findUrl], {env, timeoutMs: 60_000})
    expect(r.code, r.stderr).toBe(0)
    expect(ids(r.stdout)).toEqual(expected)
    // the completed one is not in the failed state, and the pushdown shipped only the matches
    expect(r.stderr).toMatch(/4 matching of 4 read/)
    await q.close()
  })

  it('a peek with a match finds 2 matches behind 500 others with limit 2 (without it, none)', async () => {
    const q = queue('behind')
    for (let s = 0; s < 500; s += 250) await q.addBulk(Array.from({length: 250}, (_, i) => ({name: 'other', data: {tenant: 7, i: s + i}})))
    const a = await q.add('wanted', {tenant: 42, i: 500})
    const b = await q.add('wanted', {tenant: 42, i: 501})
    const match: PeekMatch = {all: [{path: ['body', 'tenant'], equals: 42}]}
    expect(await peekIds(q.name, 'waiting', 2, match)).toEqual([a.id, b.id])
    // what a client-side filter over a plain peek of 2 would see: none of them
    expect((await peekIds(q.name, 'waiting', 2)).filter((id) => id === a.id || id === b.id)).toEqual([])
    // past one script chunk (1000 jobs) too: the cursor carries on from the client
    await q.addBulk(Array.from({length: 900}, (_, i) => ({name: 'other', data: {tenant: 7, i: 600 + i}})))
    const c = await q.add('wanted', {tenant: 42, i: 2000})
    expect(await peekIds(q.name, 'waiting', 10, match)).toEqual([a.id, b.id, c.id])
    await q.close()
  })

  it('nested paths, numbers vs strings, booleans, ids and names decide as the CEL test does', async () => {
    const q = queue('kinds')
    const jobs = [
      {name: 'email', data: {tenant: 42, a: {b: {c: true, n: 1.5}}}, opts: {jobId: 'job-one'}},
      {name: 'email', data: {tenant: '42', a: {b: {c: false, n: '1.5'}}}},
      {name: 'sms', data: {tenant: 42.0, a: {b: 'flat'}}},
      {name: 'sms', data: {tenant: 4200, a: [1, 2], list: [{c: true}]}},
      {name: 'email', data: 42},
      {name: 'email', data: {a: null}},
    ]
    for (const j of jobs) await q.add(j.name, j.data, j.opts)
    const all = await broker.peek(`bullmq:${q.name}`, {state: 'waiting', limit: 100})
    expect(all).toHaveLength(jobs.length)
    const cases: [string, number][] = [
      ['body.tenant == 42', 2],
      ['body.tenant == "42"', 1],
      ['body.a.b.c == true', 1],
      ['body.a.b.c == false && name == "email"', 1],
      ['body.a.b.n == 1.5', 1],
      ['body.a.b.n == "1.5"', 1],
      ['body == 42', 1],
      ['id == "job-one"', 1],
      ['id == "job-one" && body.tenant == "42"', 0],
      ['name == "sms" && body.tenant == 42', 1],
      ['name == "sms" && body.a.b == "flat"', 1],
      ['body.a.b.c == true && body.tenant == 4200', 0],
    ]
    for (const [text, n] of cases) {
      const where = await compileWhere(text)
      expect(where.pushdown, text).toBeDefined()
      const shipped = await broker.peek(`bullmq:${q.name}`, {state: 'waiting', limit: 100, match: where.pushdown!})
      const clientSide = all.filter((m) => where.test(m)).map((m) => m.id)
      // what the script shipped is exactly the matches: a prefilter that narrows, and drops none
      expect(shipped.map((m) => m.id), text).toEqual(clientSide)
      expect(clientSide, text).toHaveLength(n)
    }
    // a condition the script cannot decide (state) is left to the caller, not guessed
    expect(await peekIds(q.name, 'waiting', 100, {all: [{path: ['state'], equals: 'dead'}]})).toHaveLength(jobs.length)
    await q.close()
  })

  it('a chunk starts after the last id examined, wherever workers moved it (no waiting match skipped)', async () => {
    const q = queue('moving')
    const jobs = await q.addBulk(Array.from({length: 30}, (_, i) => ({name: 'j', data: {tenant: i === 12 || i === 15 ? 42 : 7, i}})))
    const conds = JSON.stringify([{path: ['body', 'tenant'], equals: 42}])
    const call = (start: number, last: string) => runScript(connection, MATCH_IDS, [`bull:${q.name}:wait`], [`bull:${q.name}:`, 'list', start, 10, 10, conds, '', '1', last]) as Promise<unknown[]>
    expect(await call(0, '')).toEqual([10, 0, jobs[9]!.id])
    // a worker takes the 5 oldest (BullMQ moves from the tail): positions shift by 5
    for (let i = 0; i < 5; i++) await connection.rpop(`bull:${q.name}:wait`)
    expect(await call(10, jobs[9]!.id!)).toEqual([15, 0, jobs[19]!.id, jobs[12]!.id, jobs[15]!.id])
    await q.close()
  })

  it('data that is not JSON never matches a body condition and is no error; what JSON.parse reads is kept', async () => {
    const q = queue('broken')
    const broken = await q.add('email', {tenant: 42})
    const surrogate = await q.add('email', {tenant: 42})
    const fine = await q.add('email', {tenant: 42})
    await connection.hset(`bull:${q.name}:${broken.id}`, 'data', 'not json {')
    // a lone surrogate escape: cjson refuses it, JSON.parse (the client side) reads it
    await connection.hset(`bull:${q.name}:${surrogate.id}`, 'data', '{"tenant":42,"s":"\\ud800"}')
    // text queuectl stored as a string (not canonical JSON): its body is that text parsed
    const [text] = await broker.enqueue(`bullmq:${q.name}`, [{payload: ' {"tenant": 42} ', name: 'email'}])
    const where = await compileWhere('body.tenant == 42')
    const shipped = await broker.peek(`bullmq:${q.name}`, {state: 'waiting', limit: 100, match: where.pushdown!})
    expect(shipped.map((m) => m.id).sort()).toEqual([surrogate.id, fine.id, text].sort())
    expect(shipped.filter((m) => where.test(m)).map((m) => m.id).sort()).toEqual([surrogate.id, fine.id, text].sort())
    // by name, the broken one is still listed (undecodable, as a plain peek shows it)
    const named = await broker.peek(`bullmq:${q.name}`, {state: 'waiting', limit: 100, match: {all: [{path: ['name'], equals: 'email'}]}})
    expect(named.map((m) => m.id)).toContain(broken.id)
    expect(named.find((m) => m.id === broken.id)?.undecodable).toMatch(/cannot read job/)
    await q.close()
  })
})

describe('--where pushed down on Bull', {timeout: 120_000}, () => {
  let broker: Broker
  const made: Bull.Queue[] = []
  const bull = (suffix: string) => {
    const q = new Bull(`${tag}-bull-${suffix}`, {redis: FIND_REDIS})
    made.push(q)
    return q
  }
  const match = (path: string[], equals: string | number | boolean): PeekMatch => ({all: [{path, equals}]})
  beforeAll(async () => {
    broker = await createBroker(findUrl, {timeoutMs: 10_000})
    await broker.connect()
  })
  afterAll(async () => {
    await broker?.close()
    for (const q of made) await q.obliterate({force: true}).catch(() => {})
    await Promise.all(made.map((q) => q.close().catch(() => {})))
  })

  it('find --state dead --where body.tenant == 42 equals getFailed() + a JS filter, in Bull\'s order', async () => {
    const q = bull('failed')
    void q.process('*', async (job) => {
      if (job.data.fail) throw new Error(`failed ${job.data.i}`)
    })
    const tenants: unknown[] = [42, 7, '42', 42, {n: 42}, 42]
    for (const [i, tenant] of tenants.entries()) await q.add(i % 2 ? 'sms' : 'email', {tenant, i, fail: true})
    await q.add({tenant: 42, fail: false})
    const end = Date.now() + 30_000
    while ((await q.getFailedCount()) < tenants.length || (await q.getCompletedCount()) < 1) {
      if (Date.now() > end) throw new Error('the Bull worker did not settle the jobs in 30 s')
      await new Promise((r) => setTimeout(r, 50))
    }
    const expected = (await q.getFailed(0, -1)).filter((j) => j.data.tenant === 42).map((j) => String(j.id))
    expect(expected).toHaveLength(3)
    const r = await runCli(['find', `bull:${q.name}`, '--state', 'dead', '--where', 'body.tenant == 42', '--json', '--url', findUrl], {env, timeoutMs: 60_000})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {id: string}).id)).toEqual(expected)
    expect(r.stderr).toMatch(/3 matching of 3 read/)
  })

  it('finds matches behind 500 others with limit 2; Bull\'s __default__ name reads as no name', async () => {
    const q = bull('behind')
    await q.addBulk(Array.from({length: 500}, (_, i) => ({name: 'other', data: {tenant: 7, i}})))
    const a = await q.add({tenant: 42, deep: {on: true}})
    const b = await q.add('send', {tenant: 42, deep: {on: false}})
    const peek = async (m: PeekMatch, limit = 2) => (await broker.peek(`bull:${q.name}`, {state: 'waiting', limit, match: m})).map((x) => x.id)
    expect(await peek(match(['body', 'tenant'], 42))).toEqual([String(a.id), String(b.id)])
    expect((await broker.peek(`bull:${q.name}`, {state: 'waiting', limit: 2})).map((x) => x.id)).not.toContain(String(a.id))
    expect(await peek(match(['body', 'deep', 'on'], true))).toEqual([String(a.id)])
    expect(await peek(match(['name'], 'send'))).toEqual([String(b.id)])
    for (const text of ['name == "" && body.tenant == 42', 'name == "__default__"', 'id == "' + String(b.id) + '"']) {
      const where = await compileWhere(text)
      const shipped = await broker.peek(`bull:${q.name}`, {state: 'waiting', limit: 1000, match: where.pushdown!})
      const all = await broker.peek(`bull:${q.name}`, {state: 'waiting', limit: 1000})
      expect(shipped.filter((m) => where.test(m)).map((m) => m.id), text).toEqual(all.filter((m) => where.test(m)).map((m) => m.id))
    }
    expect(await peek(match(['name'], ''), 10)).toEqual([String(a.id)])
  })
})

describe('--where on BullMQ for a Redis user without EVAL (private redis-server)', {timeout: 60_000}, () => {
  let server: PrivateRedis
  beforeAll(async () => {
    server = new PrivateRedis(await freePort())
    await server.start()
  })
  afterAll(async () => server?.stop())

  it('falls back to reading every job and filtering in the client', async () => {
    const admin = new Redis({host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null})
    await admin.call('ACL', 'SETUSER', 'qctl-reader', 'on', '>pw', '~*', '+@read', '+@connection', '+info', '+ping')
    const q = new Queue('ro-find', {connection: admin})
    const wanted = await q.add('email', {tenant: 42})
    await q.add('email', {tenant: 7})
    await q.close()
    const r = await runCli(['find', 'bullmq:ro-find', '--where', 'body.tenant == 42', '--json', '--url', `redis://qctl-reader:pw@127.0.0.1:${server.port}`], {env, timeoutMs: 30_000})
    admin.disconnect()
    expect(r.code, r.stderr).toBe(0)
    expect(ids(r.stdout)).toEqual([wanted.id])
    expect(r.stderr).toMatch(/1 matching of 2 read/)
  })
})

describe('--where on BullMQ on a Redis Cluster', {timeout: 60_000}, () => {
  it('the script runs in the queue\'s slot ({bull} prefix) and ships only the matches', async () => {
    const broker = await openRedis(clusterUrl(inject('redisClusterUrl'), inject('redisClusterError'), 'flavor=bullmq'))
    const q = `bullmq:${tag}-cluster`
    try {
      await broker.createQueue(q)
      await broker.enqueue(q, Array.from({length: 600}, (_, i) => ({payload: JSON.stringify({tenant: 7, i}), name: 'other'})))
      const wanted = await broker.enqueue(q, [{payload: '{"tenant":42}', name: 'wanted'}, {payload: '{"tenant":42,"b":1}', name: 'wanted'}])
      const shipped = await broker.peek(q, {state: 'waiting', limit: 2, match: {all: [{path: ['body', 'tenant'], equals: 42}]}})
      expect(shipped.map((m) => m.id)).toEqual(wanted)
    } finally {
      await broker.deleteQueue(q).catch(() => {})
      await broker.close()
    }
  })
})
