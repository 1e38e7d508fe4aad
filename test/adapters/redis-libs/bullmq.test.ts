// BullMQ (the real bullmq 6 package): read-only commands write nothing — not even the queue's
// meta — and work for a Redis user limited to `+@read` (so do those on Bull and Bee-Queue queues,
// which read without MULTI/EXEC); a job hash BullMQ cannot read (a timestamp
// that is no number) is listed as undecodable; job schedulers (upsertJobScheduler) show as delayed
// jobs naming their scheduler; what queuectl's retry, move and export | import write is run by a
// real BullMQ Worker with exactly the data given. The read-only checks run on a private
// redis-server, so MONITOR and a dump of every key see this test's traffic only.
import Bull from 'bull'
import BeeQueue from 'bee-queue'
import {Queue, Worker} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {PrivateRedis, freePort} from '../../reliability/harness.js'
import {until} from './helpers.js'
import {snapshot} from '../../helpers/redis-readonly.js'

const home = isolatedHome()
const QUEUE = 'ro-orders'

describe('bullmq: read-only commands on a +@read user (private redis-server)', {timeout: 120_000}, () => {
  let server: PrivateRedis
  let admin: Redis
  let readerUrl: string
  let adminUrl: string
  const monitorLog: string[] = []
  let monitor: Redis | undefined

  beforeAll(async () => {
    server = new PrivateRedis(await freePort())
    await server.start()
    adminUrl = server.url
    admin = new Redis({host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null})
    await admin.call('ACL', 'SETUSER', 'qctl-reader', 'on', '>pw', '~*', '+@read', '+@connection', '+info', '+ping')
    readerUrl = `redis://qctl-reader:pw@127.0.0.1:${server.port}`
    // a queue BullMQ 5 last touched, with jobs the real bullmq put in every state and a job scheduler
    const queue = new Queue(QUEUE, {connection: admin})
    await queue.add('waiting', {n: 1})
    await queue.add('later', {n: 2}, {delay: 3_600_000})
    await queue.add('boom', {n: 3})
    const worker = new Worker(QUEUE, async (job) => {
      if (job.name === 'boom') throw new Error('boom')
    }, {connection: new Redis({host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null})})
    await until('the worker to fail one job and complete one', async () => ((await queue.getFailedCount()) === 1 && (await queue.getCompletedCount()) === 1 ? true : undefined))
    await worker.close()
    await queue.add('waiting', {n: 4})
    await queue.upsertJobScheduler('nightly-report', {pattern: '0 3 * * *'}, {name: 'report', data: {kind: 'nightly'}})
    await queue.close()
    await admin.hset(`bull:${QUEUE}:meta`, 'version', 'bullmq:5.0.0')
    // a Bull and a Bee-Queue queue beside it, written by their own packages
    const bull = new Bull('ro-bull', {redis: {host: '127.0.0.1', port: server.port}})
    await bull.add({n: 1})
    await bull.add({n: 2}, {delay: 3_600_000})
    await bull.close()
    const bee = new BeeQueue('ro-bee', {redis: {host: '127.0.0.1', port: server.port}, isWorker: false, getEvents: false})
    await bee.createJob({n: 1}).save()
    await bee.close()
  }, 120_000)

  afterAll(async () => {
    monitor?.disconnect()
    admin?.disconnect()
    await server?.stop()
  })

  it('inspect, top --once, metrics --once, wait, export and purge/retry/move --dry-run (BullMQ; inspect on Bull and Bee-Queue too) succeed as a +@read user and change nothing', async () => {
    const before = await snapshot(admin)
    monitor = await admin.monitor()
    monitor.on('monitor', (_time: string, args: string[]) => monitorLog.push(args.join(' ')))
    const cli = (args: string[]) => runCli([...args, '--url', readerUrl], {env: home, timeoutMs: 60_000})
    const runs = {
      list: await cli(['inspect', '--json']),
      inspect: await cli(['inspect', `bullmq:${QUEUE}`, '--peek', '10', '--json']),
      delayed: await cli(['inspect', `bullmq:${QUEUE}`, '--peek', '10', '--state', 'delayed', '--json']),
      dead: await cli(['inspect', `bullmq:${QUEUE}`, '--peek', '10', '--state', 'dead', '--json']),
      top: await cli(['top', '--once']),
      metrics: await cli(['metrics', '--once']),
      wait: await cli(['wait', `bullmq:${QUEUE}`, '--until', 'dead==1', '--timeout', '10s']),
      export: await cli(['export', `bullmq:${QUEUE}`]),
      purge: await cli(['purge', `bullmq:${QUEUE}`, '--dry-run']),
      retry: await cli(['retry', `bullmq:${QUEUE}`, '--dry-run']),
      move: await cli(['move', `bullmq:${QUEUE}`, `bullmq:${QUEUE}-copy`, '--create', '--dry-run']),
      bull: await cli(['inspect', 'bull:ro-bull', '--peek', '5', '--json']),
      bullDelayed: await cli(['inspect', 'bull:ro-bull', '--peek', '5', '--state', 'delayed']),
      bee: await cli(['inspect', 'bee:ro-bee', '--peek', '5', '--json']),
    }
    for (const [what, r] of Object.entries(runs)) expect({what, code: r.code, stderr: r.stderr.replace(/^exported \d+ messages? from .*\n/, '')}).toEqual({what, code: 0, stderr: ''})
    const stats = JSON.parse(runs.inspect.stdout)
    expect(stats.queue).toMatchObject({counts: {waiting: 1, delayed: 2, dead: 1, completed: 1}})
    expect(JSON.parse(runs.bull.stdout)).toMatchObject({queue: {counts: {waiting: 1, delayed: 1}}, messages: [{body: {n: 1}}]})
    expect(JSON.parse(runs.bee.stdout)).toMatchObject({queue: {counts: {waiting: 1}}, messages: [{body: {n: 1}}]})
    expect(runs.metrics.stdout).toContain(QUEUE)
    expect(runs.top.stdout).toContain(QUEUE)
    expect(runs.export.stdout.trim().split('\n')).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    monitor.disconnect()
    monitor = undefined
    expect(await snapshot(admin)).toEqual(before)
    expect(await admin.hget(`bull:${QUEUE}:meta`, 'version')).toBe('bullmq:5.0.0')
    const writes = monitorLog.filter((line) => /^(eval|evalsha|hset|hmset|hdel|set|del|rpop|lpush|rpush|zadd|zrem|xadd|expire|script)\b/i.test(line))
    expect(writes).toEqual([])
    expect(monitorLog.length).toBeGreaterThan(0)
  }, 120_000)

  it('a job scheduler’s next job shows as a delayed job of its queue, naming the scheduler', async () => {
    const r = await runCli(['inspect', `bullmq:${QUEUE}`, '--peek', '10', '--state', 'delayed', '--json', '--url', readerUrl], {env: home, timeoutMs: 60_000})
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {messages: {name: string; headers: Record<string, string>; availableAt?: string; payload: string}[]; queue: {details: Record<string, unknown>}}
    const scheduled = out.messages.find((m) => m.headers.scheduler === 'nightly-report')
    expect(scheduled).toMatchObject({name: 'report', payload: '{"kind":"nightly"}'})
    expect(Date.parse(scheduled!.availableAt!)).toBeGreaterThan(Date.now())
    expect(out.queue.details).toMatchObject({schedulers: 1})
  })

  it('a job hash whose timestamp is no number is listed as undecodable (exit 0), the others as usual', async () => {
    await admin.hset(`bull:${QUEUE}:bad-ts`, {name: 'odd', data: '{"x":1}', opts: '{}', timestamp: 'yesterday', delay: '0', priority: '0', attemptsMade: '0'})
    await admin.lpush(`bull:${QUEUE}:wait`, 'bad-ts')
    try {
      const r = await runCli(['inspect', `bullmq:${QUEUE}`, '--peek', '10', '--url', adminUrl], {env: home, timeoutMs: 60_000})
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/undecodable|timestamp/i)
      const j = await runCli(['inspect', `bullmq:${QUEUE}`, '--peek', '10', '--json', '--url', adminUrl], {env: home, timeoutMs: 60_000})
      const messages = (JSON.parse(j.stdout) as {messages: {id: string; undecodable?: string; enqueuedAt?: string}[]}).messages
      expect(messages.find((m) => m.id === 'bad-ts')).toMatchObject({undecodable: expect.stringMatching(/timestamp/)})
      expect(messages.find((m) => m.id === 'bad-ts')!.enqueuedAt).toBeUndefined()
      expect(messages.filter((m) => !m.undecodable)).toHaveLength(1)
    } finally {
      await admin.lrem(`bull:${QUEUE}:wait`, 0, 'bad-ts')
      await admin.del(`bull:${QUEUE}:bad-ts`)
    }
  })

  it('a real BullMQ Worker runs what retry, move and export | import wrote, with exactly the data given', async () => {
    const cli = (args: string[], input?: string) => runCli([...args, '--url', adminUrl], {env: home, timeoutMs: 60_000, input})
    const given = [
      {name: 'order', data: {id: 7, note: 'é ✓ "quoted"', items: [1, {a: null}]}},
      {name: 'text', data: 'plain text, not JSON'},
      {name: 'num', data: 42},
    ]
    const fill = async (name: string) => {
      const q = new Queue(name, {connection: admin})
      await q.addBulk(given)
      await q.close()
    }
    await fill('src-exp')
    await fill('src-mv')
    const exported = await cli(['export', 'bullmq:src-exp'])
    expect(exported.code).toBe(0)
    const imported = await cli(['import', 'bullmq:dst-imp', '--create'], exported.stdout)
    expect({code: imported.code, stderr: imported.stderr}).toMatchObject({code: 0})
    const moved = await cli(['move', 'bullmq:src-mv', 'bullmq:dst-mv', '--create', '--yes', '--idle', '500ms'])
    expect(moved.code).toBe(0)

    // retry: a worker fails every job once, `queue retry` puts them back
    await fill('retried')
    const failing = new Worker('retried', async () => {
      throw new Error('first run fails')
    }, {connection: new Redis({host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null})})
    const retryQueue = new Queue('retried', {connection: admin})
    await until('3 failed', async () => ((await retryQueue.getFailedCount()) === 3 ? true : undefined))
    await failing.close()
    await retryQueue.close()
    expect((await cli(['retry', 'bullmq:retried', '--yes'])).code).toBe(0)

    for (const name of ['dst-imp', 'dst-mv', 'retried']) {
      const seen: {name: string; data: unknown}[] = []
      const w = new Worker(name, async (job) => void seen.push({name: job.name, data: job.data}), {
        connection: new Redis({host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null}),
        concurrency: 1,
      })
      await until(`3 jobs of ${name} run`, async () => (seen.length >= 3 ? true : undefined))
      await w.close()
      const byName = (a: {name: string}, b: {name: string}) => a.name.localeCompare(b.name)
      expect({queue: name, seen: seen.sort(byName)}).toEqual({queue: name, seen: [...given].sort(byName)})
    }
  }, 120_000)
})
