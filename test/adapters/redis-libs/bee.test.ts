// The `bee` flavor against the real bee-queue 2 package as producer and worker: counts equal to
// bee-queue's own checkHealth(), peek shows what bee stored, jobs queuectl enqueues run in a bee
// worker with the same data, retry revives a failed job as Job#retry does. And one Redis holding
// BullMQ, Bull and Bee-Queue queues under the same names lists each once, with the right kind.
import BeeQueue from 'bee-queue'
import Bull from 'bull'
import {Queue as BullmqQueue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {REDIS_HOST, libUrl, openLib, uniqueName, until} from './helpers.js'
import {BEE_DB} from './node-dbs.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const redis = {host, port: Number(port), db: BEE_DB}

const COUNTS = (h: {waiting: number; active: number; succeeded: number; failed: number; delayed: number}) => ({
  waiting: h.waiting,
  inflight: h.active,
  delayed: h.delayed,
  dead: h.failed,
  completed: h.succeeded,
})

describe('bee flavor with the real bee-queue library', {timeout: 60_000}, () => {
  let broker: Broker
  const made: BeeQueue[] = []
  const bee = (name: string, settings: BeeQueue.QueueSettings = {}) => {
    const q = new BeeQueue(name, {redis, ...settings})
    made.push(q)
    return q
  }
  beforeAll(async () => {
    broker = await openLib(BEE_DB)
  })
  afterAll(async () => {
    for (const q of made) await q.destroy().catch(() => {})
    await Promise.all(made.map((q) => q.close(2000).catch(() => {})))
    await broker?.close()
  })

  it('counts every state as bee-queue’s checkHealth() does', async () => {
    const name = uniqueName('bee-counts')
    const producer = bee(name, {isWorker: false})
    const worker = bee(name)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started = false
    worker.process(async (job: BeeQueue.Job<{fail?: boolean; hold?: boolean}>) => {
      if (job.data.fail) throw new Error('boom')
      if (job.data.hold) {
        started = true
        await held
      }
      return 'ok'
    })
    await producer.createJob({n: 1}).save()
    await producer.createJob({n: 2}).save()
    await producer.createJob({fail: true}).save()
    await until('2 succeeded, 1 failed', async () => {
      const h = await producer.checkHealth()
      return h.succeeded === 2 && h.failed === 1 ? true : undefined
    })
    await producer.createJob({hold: true}).save()
    await until('the held job active', () => (started ? true : undefined))
    await producer.createJob({later: true}).delayUntil(Date.now() + 60_000).save()
    await producer.createJob({w: 1}).save()
    await producer.createJob({w: 2}).save()
    const health = await producer.checkHealth()
    expect(health).toMatchObject({waiting: 2, active: 1, succeeded: 2, failed: 1, delayed: 1})
    const stats = await broker.stats(`bee:${name}`)
    expect(stats.kind).toBe('bee')
    expect(stats.counts).toEqual(COUNTS(health))
    expect(stats.details?.newestJob).toBe(health.newestJob)
    expect((await broker.stats(name)).name).toBe(`bee:${name}`) // a bare name finds it
    const [failed] = await broker.peek(`bee:${name}`, {limit: 5, state: 'dead'})
    expect(failed!.body).toEqual({fail: true})
    expect(failed!.lastError).toBe('Error: boom')
    expect(failed!.attempts).toBe(1)
    expect((failed!.raw as {options: {stacktraces: string[]}}).options.stacktraces[0]).toContain('boom')
    const waiting = await broker.peek(`bee:${name}`, {limit: 5})
    expect(waiting.map((m) => m.body)).toEqual([{w: 1}, {w: 2}]) // the next one first
    const [delayed] = await broker.peek(`bee:${name}`, {limit: 5, state: 'delayed'})
    expect(delayed!.availableAt).toBeGreaterThan(Date.now() + 50_000)
    release()
  })

  it('a job queuectl enqueues runs in a bee worker with the same data; delayed ones too', async () => {
    const name = uniqueName('bee-enq')
    const ids = await broker.enqueue(`bee:${name}`, [{payload: JSON.stringify({hello: 'world', n: [1, 2]})}, {payload: 'plain text'}, {payload: '{"d":1}', delayMs: 300}])
    expect(ids).toEqual(['1', '2', '3'])
    const worker = bee(name, {activateDelayedJobs: true})
    const seen: unknown[] = []
    worker.process(async (job: BeeQueue.Job<unknown>) => void seen.push(job.data))
    await until('3 jobs run', () => (seen.length === 3 ? true : undefined))
    expect(seen).toEqual([{hello: 'world', n: [1, 2]}, 'plain text', {d: 1}])
    expect((await worker.checkHealth()).succeeded).toBe(3)
  })

  it('retry revives a failed job as Job#retry does, and the worker then runs it', async () => {
    const name = uniqueName('bee-retry')
    const q = bee(name)
    let fail = true
    let runs = 0
    q.process(async () => {
      runs++
      if (fail) throw new Error('first time')
    })
    const job = await q.createJob({r: 1}).save()
    await until('failed', async () => ((await q.checkHealth()).failed === 1 ? true : undefined))
    fail = false
    expect(await broker.retry!(`bee:${name}`, {})).toBe(1)
    await until('succeeded after the retry', async () => ((await q.checkHealth()).succeeded === 1 ? true : undefined))
    expect(runs).toBe(2)
    expect((await q.getJob(job.id)).status).toBe('succeeded')
  })

  it('a bee worker runs what move (from a list, from Bull, between bee queues) and export | import wrote: the same data', async () => {
    const env = isolatedHome()
    const cli = (args: string[], input?: string) => runCli([...args, '--url', libUrl(BEE_DB)], {env, timeoutMs: 60_000, input})
    const given: unknown[] = [{id: 7, note: 'é ✓ "quoted"', items: [1, {a: null}], nested: {deep: [true, 1.5]}}, 'plain text, not JSON', 42, ['a', 2, {b: false}]]
    const fill = async (name: string) => {
      const q = bee(name, {isWorker: false})
      for (const data of given) await q.createJob(data).save()
    }
    const runAll = async (name: string, n: number) => {
      const seen: unknown[] = []
      bee(name).process(async (job: BeeQueue.Job<unknown>) => void seen.push(job.data))
      await until(`${n} jobs of ${name} run`, () => (seen.length >= n ? true : undefined))
      return seen
    }

    const srcExp = uniqueName('bee-exp')
    const dstImp = uniqueName('bee-imp')
    await fill(srcExp)
    const exported = await cli(['export', `bee:${srcExp}`])
    expect(exported.code, exported.stderr).toBe(0)
    const imported = await cli(['import', `bee:${dstImp}`, '--create'], exported.stdout)
    expect(imported.code, imported.stderr).toBe(0)
    expect(await runAll(dstImp, 4)).toEqual(given)

    const srcMv = uniqueName('bee-mv')
    const dstMv = uniqueName('bee-mv-dst')
    await fill(srcMv)
    const moved = await cli(['move', `bee:${srcMv}`, `bee:${dstMv}`, '--create', '--yes', '--idle', '500ms'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(await runAll(dstMv, 4)).toEqual(given)

    // from Bull (its jobs named) and from a plain list that LPUSH producers fill (JSON bytes → the value)
    const fromBull = uniqueName('bull-src')
    const fromList = uniqueName('list-src')
    const dstOther = uniqueName('bee-from-others')
    const bullQ = new Bull(fromBull, {redis})
    const conn = new Redis({...redis})
    try {
      for (const [i, data] of given.entries()) await bullQ.add(`job-${i}`, data)
      await conn.lpush(fromList, ...given.map((d) => JSON.stringify(d)))
      const mb = await cli(['move', `bull:${fromBull}`, `bee:${dstOther}`, '--create', '--yes', '--idle', '500ms'])
      expect(mb.code, mb.stderr).toBe(0)
      const ml = await cli(['move', `list:${fromList}`, `bee:${dstOther}`, '--yes', '--idle', '500ms'])
      expect(ml.code, ml.stderr).toBe(0)
      expect(await runAll(dstOther, 8)).toEqual([...given, ...given])
    } finally {
      await bullQ.obliterate({force: true}).catch(() => {})
      await bullQ.close().catch(() => {})
      await conn.del(fromList, `{${fromList}}:processing`, `{${fromList}}:leases`, `{${fromList}}:dead`)
      await conn.srem('queuectl:lists', fromList)
      conn.disconnect()
    }
  })

  it('consumes jobs a bee producer added: ack → succeeded, dead-letter → failed', async () => {
    const name = uniqueName('bee-consume')
    const q = bee(name, {isWorker: false})
    const a = await q.createJob({a: 1}).save()
    await q.createJob({b: 2}).save()
    const leases: Lease[] = []
    const sub = await broker.consume(`bee:${name}`, (l) => leases.push(l), {prefetch: 2})
    await until('2 leases', () => (leases.length === 2 ? true : undefined))
    expect((await q.checkHealth()).active).toBe(2)
    const first = leases.find((l) => l.message.id === a.id)!
    const second = leases.find((l) => l !== first)!
    await first.ack()
    await second.deadLetter('not today')
    await sub.close()
    const health = await q.checkHealth()
    expect(health).toMatchObject({active: 0, succeeded: 1, failed: 1})
    expect((await q.getJob(first.message.id)).status).toBe('succeeded')
    const dead = await q.getJob(second.message.id)
    expect(dead.status).toBe('failed')
    expect(dead.options.stacktraces[0]).toBe('not today')
    expect(await broker.purge(`bee:${name}`, 'completed')).toBe(1)
    expect((await q.checkHealth()).succeeded).toBe(0)
  })

  it('bee’s stall check leaves a running lease alone and resets it once the lease ran out', async () => {
    const name = uniqueName('bee-stall')
    const producer = bee(name, {isWorker: false})
    await producer.createJob({from: 'queuectl'}).save()
    const stalling = await openLib(BEE_DB, '?stallInterval=1000')
    try {
      const leases: Lease[] = []
      const sub = await stalling.consume(`bee:${name}`, (l) => leases.push(l), {prefetch: 1, leaseMs: 3000})
      await until('the lease', () => (leases.length === 1 ? true : undefined))
      // a bee worker checking for stalled jobs every second while the lease runs
      const worker = bee(name, {stallInterval: 1000})
      const ran: unknown[] = []
      worker.process(async (job: BeeQueue.Job<unknown>) => void ran.push(job.data))
      await new Promise((resolve) => setTimeout(resolve, 2200))
      expect(ran).toEqual([]) // still leased: not reset
      await until('the bee worker ran the job after the lease', () => (ran.length === 1 ? true : undefined), 15_000)
      expect(ran[0]).toEqual({from: 'queuectl'})
      await sub.close()
    } finally {
      await stalling.close()
    }
  })
})

describe('BullMQ, Bull and Bee-Queue queues on one Redis', {timeout: 60_000}, () => {
  it('lists each once, with the right kind, and a bare name shared by them is ambiguous', async () => {
    const name = uniqueName('mixed')
    const other = uniqueName('mixed-bull')
    const conn = new Redis({...redis, maxRetriesPerRequest: null})
    const bullmq = new BullmqQueue(name, {connection: conn})
    const bullLegacy = new Bull(name, {redis, prefix: 'legacy'})
    const bullSamePrefix = new Bull(other, {redis})
    const beeQ = new BeeQueue(name, {redis, isWorker: false})
    const broker = await openLib(BEE_DB)
    try {
      await bullmq.add('x', {q: 'bullmq'})
      await bullLegacy.add({q: 'bull'})
      await bullSamePrefix.add({q: 'bull2'})
      await bullSamePrefix.pause() // Bull's forward-compat meta {paused} must not make it BullMQ
      await beeQ.createJob({q: 'bee'}).save()
      const list = await broker.listQueues()
      const mine = list.filter((r) => r.name.includes(name) || r.name.includes(other)).map((r) => `${r.kind} ${r.name}`)
      expect(mine.sort()).toEqual([`bee bee:${name}`, `bull bull:${other}`, `bull bull:legacy:${name}`, `bullmq bullmq:${name}`].sort())
      expect((await broker.stats(`bullmq:${name}`)).counts.waiting).toBe(1)
      expect((await broker.stats(`bull:${other}`)).counts.paused).toBe(1)
      expect((await broker.stats(`bee:${name}`)).counts.waiting).toBe(1)
      const error = await broker.stats(name).then(() => undefined, (e: Error & {exitCode?: number}) => e)
      expect(error?.exitCode).toBe(2)
      expect(error?.message).toContain(`bee:${name}, bullmq:${name}`)
      expect((await broker.stats(other)).kind).toBe('bull')
      // neither writes into the other's keys
      await expect(broker.enqueue(`bull:${name}`, [{payload: '{}'}])).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/is a BullMQ queue/)})
      await expect(broker.stats(`bullmq:${other}`)).rejects.toMatchObject({exitCode: 4})
    } finally {
      await broker.close()
      await bullmq.obliterate({force: true}).catch(() => {})
      await bullLegacy.obliterate({force: true}).catch(() => {})
      await bullSamePrefix.obliterate({force: true}).catch(() => {})
      await beeQ.destroy().catch(() => {})
      await Promise.all([bullmq.close(), bullLegacy.close(), bullSamePrefix.close(), beeQ.close()].map((p) => p.catch(() => {})))
      conn.disconnect()
    }
  })
})
