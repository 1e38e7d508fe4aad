// pg-boss 10 as producer and worker beside queuectl: jobs in every state made by pg-boss show the
// same counts as its own getQueueSize and SQL; a job queuectl enqueues is run by pg-boss's worker
// with the same data; queue retry revives a failed job as boss.retry does; a pg-boss worker and
// our consumer side by side never share a job.
import type PgBoss from 'pg-boss'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {deadCount} from '../../../src/services/inspect.js'
import {sendInBatches} from '../../../src/services/enqueue.js'
import {admin, freshDatabase, openPostgres, type TestDb, until} from './helpers.js'


describe('pg-boss 10 beside queuectl', () => {
  let db: TestDb
  let boss: PgBoss
  let broker: Broker

  beforeAll(async () => {
    db = await freshDatabase('pgboss')
    const {default: Boss} = await import('pg-boss')
    boss = new Boss({connectionString: db.url, supervise: false, schedule: false})
    boss.on('error', () => {})
    await boss.start()
    broker = await openPostgres(db.url)
  })

  afterAll(async () => {
    await broker?.close()
    await boss?.stop({graceful: false, wait: true}).catch(() => {})
    await db?.drop()
  })

  it('concurrent enqueues to a new queue make it once: no deadlock in create_queue, every job stored', async () => {
    const q = `fresh-${Date.now()}`
    await Promise.all(Array.from({length: 8}, (_, i) => broker.enqueue(`pgboss:${q}`, [{payload: JSON.stringify({i})}])))
    expect((await broker.stats(`pgboss:${q}`)).counts.waiting).toBe(8)
    expect(await boss.getQueueSize(q)).toBe(8)
  })

  it('counts every state as pg-boss does', async () => {
    const q = 'states'
    await boss.createQueue(q)
    for (let i = 0; i < 3; i++) await boss.send(q, {n: i})
    await boss.send(q, {later: true}, {startAfter: 3600})
    const [active] = await boss.fetch(q)
    expect(active).toBeTruthy()
    await boss.send(q, {done: true}, {priority: 10})
    const [done] = await boss.fetch(q)
    await boss.complete(q, done!.id)
    await boss.send(q, {bad: true}, {priority: 10, retryLimit: 0})
    const [bad] = await boss.fetch(q)
    await boss.fail(q, bad!.id, new Error('kaputt'))
    await boss.send(q, {again: true}, {priority: 10, retryLimit: 3, retryDelay: 3600})
    const [again] = await boss.fetch(q)
    await boss.fail(q, again!.id, new Error('once more'))
    const cancelId = await boss.send(q, {stop: true}, {startAfter: 3600})
    await boss.cancel(q, cancelId!)

    const stats = await broker.stats(q)
    expect(stats.name).toBe('pgboss:states')
    // the job in pg-boss's `retry` (due in an hour) is delayed: its workers fetch it like a created one
    expect(stats.counts).toEqual({waiting: 2, delayed: 2, inflight: 1, completed: 1, dead: 2})
    expect(stats.details).toMatchObject({retrying: 1, failed: 1, cancelled: 1})
    // pg-boss's own counts: queued (created + retry) and everything not yet completed
    expect(await boss.getQueueSize(q)).toBe(stats.counts.waiting! + stats.counts.delayed!)
    expect(await boss.getQueueSize(q, {before: 'completed'})).toBe(stats.counts.waiting! + stats.counts.delayed! + stats.counts.inflight!)
    const rows = await admin<{state: string; n: number}>(`SELECT state::text, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY 1`, [q], db.name)
    const sql = Object.fromEntries(rows.map((r) => [r.state, r.n]))
    expect(sql).toEqual({created: 3, retry: 1, active: 1, completed: 1, failed: 1, cancelled: 1})

    const dead = await broker.peek(q, {state: 'dead', limit: 10})
    expect(dead.map((m) => m.lastError).sort()).toEqual(['cancelled', 'kaputt'])
    const waiting = await broker.peek(q, {limit: 10})
    expect(waiting.map((m) => m.body)).toEqual([{n: 1}, {n: 2}])
    const delayed = await broker.peek(q, {state: 'delayed', limit: 5})
    expect(delayed.map((m) => [m.body, m.lastError])).toEqual([[{again: true}, 'once more'], [{later: true}, undefined]])
  })

  it('a job queuectl enqueues is run by pg-boss\'s worker with the same data', async () => {
    const q = 'to-boss'
    const ids = await broker.enqueue(`pgboss:${q}`, [{payload: JSON.stringify({to: 'ada', n: 1})}, {payload: '{"plain":"json"}', priority: 5}])
    const seen: {id: string; data: unknown}[] = []
    await boss.work(q, {pollingIntervalSeconds: 0.5, batchSize: 5}, async (jobs) => {
      for (const job of jobs) seen.push({id: job.id, data: job.data})
    })
    await until(async () => (seen.length >= 2 ? true : undefined), 10_000, 'pg-boss to run both jobs')
    await boss.offWork(q)
    // (pg-boss hands a batch over in UPDATE … RETURNING order, not priority order)
    expect(seen.map((s) => s.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{n: 1, to: 'ada'}, {plain: 'json'}])
    expect(seen.map((s) => s.id).sort()).toEqual([...ids].sort())
    await until(async () => ((await broker.stats(q)).counts.completed === 2 ? true : undefined), 5000, 'both completed')
  })

  it('a dedupId keeps the first job (same id, so pg-boss\'s insert skips the rest), in a batch and across batches', async () => {
    const q = 'dedup'
    const first = await broker.enqueue(`pgboss:${q}`, [{payload: '{"n":1}', dedupId: 'k1'}, {payload: '{"n":2}', dedupId: 'k1'}, {payload: '{"n":3}'}])
    expect(first[1]).toBe(first[0])
    expect(await broker.enqueue(`pgboss:${q}`, [{payload: '{"n":4}', dedupId: 'k1'}])).toEqual([first[0]])
    expect((await broker.peek(q, {limit: 10})).map((m) => (m.body as {n: number}).n).sort()).toEqual([1, 3])
  })

  it('queue retry revives a failed job the way boss.retry does', async () => {
    const q = 'revive'
    await boss.createQueue(q, {name: q, retryLimit: 0})
    const id = await boss.send(q, {fix: 'me'})
    const [job] = await boss.fetch(q)
    await boss.fail(q, job!.id, new Error('broken'))
    expect((await broker.stats(q)).counts.dead).toBe(1)
    expect(await broker.retry!(q, {})).toBe(1)
    const row = await boss.getJobById(q, id!)
    expect(row?.state).toBe('retry')
    expect(row?.retryLimit).toBe(1)
    // pg-boss's workers fetch it: waiting, not dead, in what inspect, top and wait --until dead==0 read
    const after = await broker.stats(q)
    expect(after.counts).toMatchObject({waiting: 1, dead: 0})
    expect(deadCount(after)).toBe(0)
    // and pg-boss runs it again
    const [again] = await boss.fetch(q)
    expect(again?.id).toBe(id)
    expect(again?.data).toEqual({fix: 'me'})
  })

  it('our consumer and a pg-boss worker side by side never get the same job', async () => {
    const q = 'shared'
    const n = 300
    await broker.enqueue(`pgboss:${q}`, Array.from({length: n}, (_, i) => ({payload: JSON.stringify({i})})))
    const ours: number[] = []
    const theirs: number[] = []
    await boss.work<{i: number}>(q, {pollingIntervalSeconds: 0.5, batchSize: 10}, async (jobs) => {
      for (const job of jobs) theirs.push(job.data.i)
    })
    const sub = await broker.consume(q, (lease: Lease) => {
      ours.push((lease.message.body as {i: number}).i)
      void lease.ack()
    }, {prefetch: 10})
    await until(async () => (ours.length + theirs.length >= n ? true : undefined), 30_000, 'all jobs')
    await sub.close()
    await boss.offWork(q)
    const all = [...ours, ...theirs].sort((a, b) => a - b)
    expect(all).toEqual(Array.from({length: n}, (_, i) => i))
    expect(ours.length).toBeGreaterThan(0)
  })

  it('a dead-lettered lease goes to the queue\'s dead-letter queue as pg-boss configured it', async () => {
    await boss.createQueue('dlq')
    await boss.createQueue('with-dlq', {name: 'with-dlq', deadLetter: 'dlq', retryLimit: 5})
    await broker.enqueue('with-dlq', [{payload: '{"x":1}'}])
    const leases: Lease[] = []
    const sub = await broker.consume('with-dlq', (lease) => leases.push(lease), {prefetch: 1})
    await until(async () => (leases.length > 0 ? true : undefined), 5000, 'one lease')
    await sub.close()
    await leases[0]!.deadLetter('no way')
    expect((await broker.stats('with-dlq')).counts.dead).toBe(1)
    expect((await broker.stats('with-dlq')).details?.deadLetterQueue).toBe('pgboss:dlq')
    const [copy] = await boss.fetch('dlq')
    expect(copy?.data).toEqual({x: 1})
  })

  it('enqueue batches go one after another on one connection, several queued at once, and pg-boss fetches them in input order', async () => {
    const q = 'pipelined'
    let inFlight = 0
    let most = 0
    // the real broker, counting the enqueue calls sendInBatches has under way at once
    const counting = Object.create(broker) as Broker
    counting.enqueue = async (...args) => {
      most = Math.max(most, ++inFlight)
      try {
        return await broker.enqueue(...args)
      } finally {
        inFlight--
      }
    }
    const n = 3000
    const messages = Array.from({length: n}, (_, i) => ({payload: JSON.stringify({i})}))
    const report = await sendInBatches(counting, `pgboss:${q}`, messages, {batchSize: 100, total: n})
    expect(report.sent).toBe(n)
    // one call at a time before (each batch waited for the one before it to commit)
    expect(most).toBeGreaterThan(1)
    const got: number[] = []
    for (let jobs = await boss.fetch<{i: number}>(q, {batchSize: 500}); jobs.length > 0; jobs = await boss.fetch<{i: number}>(q, {batchSize: 500})) {
      got.push(...jobs.map((j) => j.data.i))
    }
    expect(got).toEqual(messages.map((_, i) => i))
  })

  it('purges by state and deletes a queue the way pg-boss does', async () => {
    const q = 'purged'
    await broker.enqueue(`pgboss:${q}`, [{payload: '1'}, {payload: '2'}, {payload: '3', delayMs: 60_000}])
    expect(await broker.purge(q, 'waiting')).toBe(2)
    expect(await broker.purge(q, 'delayed')).toBe(1)
    await broker.deleteQueue!(q)
    expect(await boss.getQueue(q)).toBeNull()
    await expect(broker.stats(`pgboss:${q}`)).rejects.toMatchObject({exitCode: 4})
  })
})
