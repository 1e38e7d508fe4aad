// The `bull` flavor against the real bull 4 package as producer and worker: counts equal to
// bull's own getJobCounts(), peek shows what bull stored, jobs queuectl enqueues run in a bull
// worker with the same data, retry revives a failed job as Job#retry does, leases use bull's lock.
import Bull from 'bull'
import {Queue as BullmqQueue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {REDIS_HOST, libUrl, openLib, uniqueName, until} from './helpers.js'
import {BULL_DB} from './node-dbs.js'
import {commandsOn} from '../redis/monitor.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const redis = {host, port: Number(port), db: BULL_DB}

const COUNTS = (c: Record<string, number>) => ({
  waiting: c.waiting,
  inflight: c.active,
  delayed: c.delayed,
  dead: c.failed,
  completed: c.completed,
  paused: c.paused,
})

describe('bull flavor with the real bull library', {timeout: 60_000}, () => {
  let broker: Broker
  const made: Bull.Queue[] = []
  const queue = (name: string, prefix?: string) => {
    const q = new Bull(name, {redis, ...(prefix ? {prefix} : {})})
    made.push(q)
    return q
  }
  beforeAll(async () => {
    broker = await openLib(BULL_DB)
  })
  afterAll(async () => {
    for (const q of made) await q.obliterate({force: true}).catch(() => {})
    await Promise.all(made.map((q) => q.close().catch(() => {})))
    await broker?.close()
  })

  it('counts every state as bull’s getJobCounts() does, paused included', async () => {
    const name = uniqueName('bull-counts')
    const producer = queue(name)
    const worker = queue(name)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started = false
    void worker.process(async (job) => {
      if (job.data.fail) throw new Error('boom')
      if (job.data.hold) {
        started = true
        await held
      }
      return 'ok'
    })
    await producer.add({n: 1})
    await producer.add({n: 2})
    await producer.add({fail: true})
    await until('2 completed, 1 failed', async () => {
      const c = await producer.getJobCounts()
      return c.completed === 2 && c.failed === 1 ? true : undefined
    })
    await producer.add({hold: true})
    await until('the held job active', () => (started ? true : undefined))
    await producer.add({later: true}, {delay: 60_000})
    await producer.add({w: 1})
    await producer.add({w: 2}, {priority: 1})
    const counts = (await producer.getJobCounts()) as unknown as Record<string, number> // bull's typings lack `paused`
    expect(counts).toMatchObject({waiting: 2, active: 1, delayed: 1, failed: 1, completed: 2})
    const stats = await broker.stats(`bull:${name}`)
    expect(stats.kind).toBe('bull')
    expect(stats.counts).toEqual(COUNTS(counts))
    expect(stats.details?.prioritized).toBe(1)
    // a bare name finds it too, as bull (BullMQ's probe must not claim it)
    expect((await broker.stats(name)).name).toBe(`bull:${name}`)

    await producer.pause()
    const paused = (await producer.getJobCounts()) as unknown as Record<string, number>
    expect(paused.paused).toBe(2)
    const after = await broker.stats(`bull:${name}`)
    expect(after.counts).toEqual(COUNTS(paused))
    expect(after.paused).toBe(true)
    expect((await broker.stats(name)).kind).toBe('bull') // the forward-compat meta {paused} is not BullMQ's
    release()
  })

  it('peeks failed jobs with name, data, attempts, failedReason and stacktrace', async () => {
    const name = uniqueName('bull-peek')
    const q = queue(name)
    await q.add('send', {to: 'a@example.com'}, {attempts: 2})
    void q.process('send', async () => {
      throw new Error('smtp down')
    })
    await until('the job failed twice', async () => ((await q.getFailedCount()) === 1 ? true : undefined))
    const [m] = await broker.peek(`bull:${name}`, {limit: 5, state: 'dead'})
    expect(m!.name).toBe('send')
    expect(m!.body).toEqual({to: 'a@example.com'})
    expect(m!.attempts).toBe(2)
    expect(m!.lastError).toBe('smtp down')
    const raw = m!.raw as {stacktrace: string[]; attemptsMade: number; opts: {attempts: number}}
    expect(raw.stacktrace).toHaveLength(2)
    expect(raw.stacktrace[0]).toContain('smtp down')
    expect(raw.opts.attempts).toBe(2)
  })

  it('a job queuectl enqueues runs in a bull worker with the same data, name and options', async () => {
    const name = uniqueName('bull-enq')
    const ids = await broker.enqueue(`bull:${name}`, [{payload: JSON.stringify({hello: 'world', n: [1, 2]})}, {payload: '{"x":1}', name: 'named'}, {payload: 'later', delayMs: 300}])
    expect(ids).toEqual(['1', '2', '3'])
    const q = queue(name)
    const seen: {name: string; data: unknown}[] = []
    void q.process(async (job) => void seen.push({name: job.name, data: job.data}))
    void q.process('named', async (job) => void seen.push({name: job.name, data: job.data}))
    await until('3 jobs run', () => (seen.length === 3 ? true : undefined))
    expect(seen).toContainEqual({name: '__default__', data: {hello: 'world', n: [1, 2]}})
    expect(seen).toContainEqual({name: 'named', data: {x: 1}})
    expect(seen).toContainEqual({name: '__default__', data: 'later'})
    expect((await q.getJobCounts()).completed).toBe(3)
  })

  it('retry revives a failed job as Job#retry does, and the worker then runs it', async () => {
    const name = uniqueName('bull-retry')
    const q = queue(name)
    let fail = true
    let runs = 0
    void q.process(async () => {
      runs++
      if (fail) throw new Error('first time')
    })
    const job = await q.add({r: 1})
    await until('failed', async () => ((await q.getFailedCount()) === 1 ? true : undefined))
    fail = false
    expect(await broker.retry!(`bull:${name}`, {})).toBe(1)
    await until('completed after the retry', async () => ((await job.getState()) === 'completed' ? true : undefined))
    expect(runs).toBe(2)
    const again = await q.getJob(job.id)
    expect(again!.failedReason).toBeUndefined() // bull's reprocess clears it, keeps attemptsMade
    expect(again!.attemptsMade).toBe(1)
  })

  it('a bull worker runs what move (from a list, from BullMQ, between bull queues) and export | import wrote: the same name and data', async () => {
    const env = isolatedHome()
    const cli = (args: string[], input?: string) => runCli([...args, '--url', libUrl(BULL_DB)], {env, timeoutMs: 60_000, input})
    const given = [
      {name: 'order', data: {id: 7, note: 'é ✓ "quoted"', items: [1, {a: null}], nested: {deep: [true, 1.5]}}},
      {name: 'text', data: 'plain text, not JSON'},
      {name: 'num', data: 42},
      {name: 'list', data: ['a', 2, {b: false}]},
    ]
    const fill = async (name: string) => {
      const q = queue(name)
      for (const g of given) await q.add(g.name, g.data)
    }
    const runAll = async (name: string, n: number) => {
      const seen: {name: string; data: unknown}[] = []
      void queue(name).process('*', async (job) => void seen.push({name: job.name, data: job.data}))
      await until(`${n} jobs of ${name} run`, () => (seen.length >= n ? true : undefined))
      return seen
    }
    const byName = (a: {name: string}, b: {name: string}) => a.name.localeCompare(b.name)
    const sorted = <T extends {name: string}>(xs: T[]) => [...xs].sort(byName)

    const srcExp = uniqueName('bull-exp')
    const dstImp = uniqueName('bull-imp')
    await fill(srcExp)
    const exported = await cli(['export', `bull:${srcExp}`])
    expect(exported.code, exported.stderr).toBe(0)
    const imported = await cli(['import', `bull:${dstImp}`, '--create'], exported.stdout)
    expect(imported.code, imported.stderr).toBe(0)
    expect(sorted(await runAll(dstImp, 4))).toEqual(sorted(given))

    const srcMv = uniqueName('bull-mv')
    const dstMv = uniqueName('bull-mv-dst')
    await fill(srcMv)
    const moved = await cli(['move', `bull:${srcMv}`, `bull:${dstMv}`, '--create', '--yes', '--idle', '500ms'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(sorted(await runAll(dstMv, 4))).toEqual(sorted(given))

    // from BullMQ (names kept) and from a plain list that LPUSH producers fill (JSON bytes → the value)
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    const conn = new Redis({host, port: Number(port), db: BULL_DB, maxRetriesPerRequest: null})
    const fromBullmq = uniqueName('bullmq-src')
    const fromList = uniqueName('list-src')
    const dstOther = uniqueName('bull-from-others')
    let bq: BullmqQueue | undefined
    try {
      bq = new BullmqQueue(fromBullmq, {connection: conn})
      await bq.addBulk(given)
      await conn.lpush(fromList, ...given.map((g) => JSON.stringify(g.data)))
      const mq = await cli(['move', `bullmq:${fromBullmq}`, `bull:${dstOther}`, '--create', '--yes', '--idle', '500ms'])
      expect(mq.code, mq.stderr).toBe(0)
      const ml = await cli(['move', `list:${fromList}`, `bull:${dstOther}`, '--yes', '--idle', '500ms'])
      expect(ml.code, ml.stderr).toBe(0)
      const seen = await runAll(dstOther, 8)
      expect(sorted(seen.filter((j) => j.name !== '__default__'))).toEqual(sorted(given))
      expect(seen.filter((j) => j.name === '__default__').map((j) => j.data)).toEqual(given.map((g) => g.data))
    } finally {
      await bq?.obliterate({force: true}).catch(() => {})
      await bq?.close()
      await conn.del(fromList, `{${fromList}}:processing`, `{${fromList}}:leases`, `{${fromList}}:dead`)
      await conn.srem('queuectl:lists', fromList)
      conn.disconnect()
    }
  })

  it('consumes jobs a bull producer added: ack → completed, dead-letter → failed, lock held while leased', async () => {
    const name = uniqueName('bull-consume')
    const q = queue(name)
    await q.add({a: 1})
    await q.add({b: 2})
    const leases: Lease[] = []
    const sub = await broker.consume(`bull:${name}`, (l) => leases.push(l), {prefetch: 2, leaseMs: 5000})
    await until('2 leases', () => (leases.length === 2 ? true : undefined))
    const first = leases.find((l) => (l.message.body as {a?: number}).a === 1)!
    const second = leases.find((l) => l !== first)!
    expect(await q.client.get(`bull:${name}:${first.message.id}:lock`)).toBeTruthy()
    expect((await q.getJobCounts()).active).toBe(2)
    await first.ack()
    await second.deadLetter('not today')
    await sub.close()
    expect(await (await q.getJob(first.message.id))!.getState()).toBe('completed')
    const dead = await q.getJob(second.message.id)
    expect(await dead!.getState()).toBe('failed')
    expect(dead!.failedReason).toBe('not today')
  })

  it('an ack takes the next job as bull’s worker does (one script a job), and closing puts the taken ones back in order', async () => {
    const name = uniqueName('bull-next')
    const q = queue(name)
    await q.addBulk(Array.from({length: 40}, (_, n) => ({data: {n}})))
    const seen: number[] = []
    const kept: Lease[] = []
    // scripts by their keys (EVALSHA/EVAL sha-or-body numkeys KEY…): moveToActive's first key is
    // wait, moveToFinished's second the target set
    const commands = await commandsOn(BULL_DB, `bull:${name}:`, async () => {
      const sub = await broker.consume(`bull:${name}`, (l) => {
        seen.push((l.message.body as {n: number}).n)
        if (seen.length <= 30) void l.ack()
        else kept.push(l)
      }, {prefetch: 4, leaseMs: 5000})
      await until('30 acked', async () => ((await q.getJobCounts()).completed === 30 ? true : undefined))
      await sub.close()
      await Promise.all(kept.map((l) => l.nack()))
    })
    const scripts = commands.filter((args) => /^eval(sha)?$/i.test(args[0] ?? ''))
    const fetches = scripts.filter((args) => args[3] === `bull:${name}:wait`).length
    const completions = scripts.filter((args) => args[4] === `bull:${name}:completed`).length
    // 30 completions, and most jobs that followed rode on them: some moveToActive (the first
    // fetch, and a fetch that finds no completion under way), not one a job (34 without)
    expect(completions).toBe(30)
    expect(fetches).toBeGreaterThan(0)
    expect(fetches).toBeLessThan(16)
    const after = await q.getJobCounts()
    expect(after.active).toBe(0)
    expect(after.completed + after.waiting).toBe(40)
    // what was taken and not handed out went back to wait: a bull worker runs the other 10
    const rest: number[] = []
    await new Promise<void>((resolve) => {
      void q.process(async (job) => {
        rest.push(job.data.n)
        if (rest.length === 10) resolve()
      })
    })
    expect([...seen.slice(0, 30), ...rest].sort((a, b) => a - b)).toEqual([...Array(40).keys()])
  })

  it('bull’s stalled check and queuectl’s respect each other’s locks', async () => {
    const name = uniqueName('bull-stall')
    const producer = queue(name)
    await producer.add({from: 'queuectl'})
    // a queuectl lease of 600 ms, abandoned: a real bull worker recovers it once the lock is gone
    const leases: Lease[] = []
    const sub = await broker.consume(`bull:${name}`, (l) => leases.push(l), {prefetch: 1, leaseMs: 600})
    await until('the lease', () => (leases.length === 1 ? true : undefined))
    await sub.close()
    const worker = new Bull(name, {redis, settings: {stalledInterval: 200, lockDuration: 6000}})
    made.push(worker)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const ran: unknown[] = []
    void worker.process(async (job) => {
      ran.push(job.data)
      await held
    })
    await until('the bull worker ran the stalled job', () => (ran.length === 1 ? true : undefined), 10_000)
    expect(ran[0]).toEqual({from: 'queuectl'})
    // the other way round: a job the bull worker holds (lock renewed) never reaches a queuectl consumer
    const others: Lease[] = []
    const watcher = await broker.consume(`bull:${name}`, (l) => others.push(l), {prefetch: 1, leaseMs: 200})
    await new Promise((resolve) => setTimeout(resolve, 2500))
    await watcher.close()
    expect(others).toHaveLength(0)
    release()
  })

  it('a job bull cannot read is listed raw and does not stop a consumer', async () => {
    const name = uniqueName('bull-corrupt')
    const q = queue(name)
    const bad = await q.add({bad: true})
    await q.add({good: true})
    await q.client.hset(`bull:${name}:${bad.id}`, 'data', '{oops')
    const peeked = await broker.peek(`bull:${name}`, {limit: 5})
    expect(peeked.map((m) => Boolean(m.undecodable))).toEqual([true, false])
    expect(peeked[0]!.payload.toString()).toBe('{oops')
    const leases: Lease[] = []
    const sub = await broker.consume(`bull:${name}`, (l) => leases.push(l), {prefetch: 1})
    await until('the good job', () => (leases.length === 1 ? true : undefined))
    expect(leases[0]!.message.body).toEqual({good: true})
    await leases[0]!.ack()
    const ended = await Promise.race([sub.closed, new Promise((resolve) => setTimeout(() => resolve('open'), 300))])
    expect(ended).toBe('open')
    await sub.close()
  })

  it('pause, resume and purge by state go through bull', async () => {
    const name = uniqueName('bull-ops')
    const q = queue(name)
    await q.addBulk([{data: {p: 1}}, {data: {p: 2}}, {data: {d: 1}, opts: {delay: 60_000}}])
    await broker.pause!(`bull:${name}`)
    expect(await q.isPaused()).toBe(true)
    expect((await broker.stats(`bull:${name}`)).counts.paused).toBe(2)
    await broker.resume!(`bull:${name}`)
    expect(await q.isPaused()).toBe(false)
    expect(await broker.purge(`bull:${name}`, 'delayed')).toBe(1)
    expect(await broker.purge(`bull:${name}`, 'waiting')).toBe(2)
    expect(await q.getJobCounts()).toMatchObject({waiting: 0, delayed: 0})
  })

  it('lists Bull queues as bull:, under another prefix as bull:PREFIX:NAME, never as lists', async () => {
    const name = uniqueName('bull-list')
    await queue(name).add({x: 1})
    await queue(name, 'legacy').add({x: 2})
    const list = await broker.listQueues()
    const mine = list.filter((r) => r.name.includes(name))
    expect(mine.map((r) => `${r.kind} ${r.name}`).sort()).toEqual([`bull bull:${name}`, `bull bull:legacy:${name}`].sort())
    expect((await broker.stats(`bull:legacy:${name}`)).counts.waiting).toBe(1)
  })
})
