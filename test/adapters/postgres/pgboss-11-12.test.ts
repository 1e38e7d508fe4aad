// pg-boss 11 (schema versions 25–26: expire_seconds, no archive, queues in job_common or a table of
// their own) and 12 (27–46: opt-in groups, heartbeats, dependencies) as producer and worker beside
// queuectl, on Node >= 22 (CI's second run, Node 24).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {describeWriteFidelity, pgbossLibrary} from './fidelity.js'
import {admin, freshDatabase, importPgboss, nodeMajor, openPostgres, type TestDb, sleep, until} from './helpers.js'


for (const major of [11, 12] as const) {
  const needs = `[pg-boss ${major} needs Node >= 22]`

  describeWriteFidelity(`pg-boss ${major}`, pgbossLibrary(major), nodeMajor >= 22, ` ${needs}`)

  describe(`pg-boss ${major} beside queuectl`, () => {
    let db: TestDb
    // pg-boss's class, loaded only on Node >= 22
    let boss: any
    let broker: Broker

    beforeAll(async () => {
      if (nodeMajor < 22) return
      db = await freshDatabase(`pgboss${major}`)
      const Boss = await importPgboss(major)
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

    it.skipIf(nodeMajor < 22)(`reads its schema version and counts every state as pg-boss ${major} stores them ${needs}`, async () => {
      const [{version}] = await admin<{version: number}>('SELECT version FROM pgboss.version', [], db.name)
      expect(version).toBeGreaterThanOrEqual(major === 11 ? 25 : 26)
      expect(version).toBeLessThanOrEqual(major === 11 ? 26 : 46)
      const q = 'states'
      await boss.createQueue(q)
      for (let i = 0; i < 3; i++) await boss.send(q, {n: i})
      await boss.send(q, {later: true}, {startAfter: 3600})
      const [active] = await boss.fetch(q)
      expect(active).toBeTruthy()
      await boss.send(q, {done: true}, {priority: 10})
      const [done] = await boss.fetch(q)
      await boss.complete(q, done.id)
      await boss.send(q, {bad: true}, {priority: 10, retryLimit: 0})
      const [bad] = await boss.fetch(q)
      await boss.fail(q, bad.id, new Error('kaputt'))
      await boss.send(q, {again: true}, {priority: 10, retryLimit: 3, retryDelay: 3600})
      const [again] = await boss.fetch(q)
      await boss.fail(q, again.id, new Error('once more'))
      const cancelId = await boss.send(q, {stop: true}, {startAfter: 3600})
      await boss.cancel(q, cancelId)

      const stats = await broker.stats(q)
      // pg-boss's `retry` job (due in an hour) is delayed: its workers fetch it like a created one
      expect(stats.counts).toEqual({waiting: 2, delayed: 2, inflight: 1, completed: 1, dead: 2})
      expect(stats.details).toMatchObject({retrying: 1, failed: 1, cancelled: 1})
      const rows = await admin<{state: string; n: number}>(`SELECT state::text, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY 1`, [q], db.name)
      expect(Object.fromEntries(rows.map((r) => [r.state, r.n]))).toEqual({created: 3, retry: 1, active: 1, completed: 1, failed: 1, cancelled: 1})
      expect((await broker.peek(q, {state: 'dead', limit: 10})).map((m) => m.lastError).sort()).toEqual(['cancelled', 'kaputt'])
      expect((await broker.peek(q, {limit: 10})).map((m) => m.body)).toEqual([{n: 1}, {n: 2}])
      expect((await broker.peek(q, {state: 'delayed', limit: 1}))[0]!.lastError).toBe('once more')
    })

    for (const partition of [false, true]) {
      it.skipIf(nodeMajor < 22)(`a job queuectl enqueues is run by pg-boss ${major}'s worker with the same data (${partition ? 'a partitioned queue' : 'job_common'}) ${needs}`, async () => {
        const q = `to-boss-${partition}`
        await boss.createQueue(q, {partition})
        const ids = await broker.enqueue(`pgboss:${q}`, [{payload: JSON.stringify({to: 'ada', n: 1})}, {payload: '{"plain":"json"}', priority: 5}, {payload: '{"d":1}', dedupId: 'k'}, {payload: '{"d":2}', dedupId: 'k'}])
        expect(ids[3]).toBe(ids[2])
        const seen: {id: string; data: unknown}[] = []
        await boss.work(q, {pollingIntervalSeconds: 0.5, batchSize: 5}, async (jobs: {id: string; data: unknown}[]) => {
          for (const job of jobs) seen.push({id: job.id, data: job.data})
        })
        await until(async () => (seen.length >= 3 ? true : undefined), 10_000, `pg-boss ${major} to run the jobs`)
        await boss.offWork(q)
        expect(seen.map((s) => JSON.stringify(s.data)).sort()).toEqual(['{"d":1}', '{"n":1,"to":"ada"}', '{"plain":"json"}'])
        expect(seen.map((s) => s.id).sort()).toEqual([...new Set(ids)].sort())
        await until(async () => ((await broker.stats(q)).counts.completed === 3 ? true : undefined), 5000, 'all completed')
      })
    }

    it.skipIf(nodeMajor < 22)(`queue retry revives a failed job the way boss.retry does ${needs}`, async () => {
      const q = 'revive'
      await boss.createQueue(q, {retryLimit: 0})
      const id = await boss.send(q, {fix: 'me'})
      const [job] = await boss.fetch(q)
      await boss.fail(q, job.id, new Error('broken'))
      expect((await broker.stats(q)).counts.dead).toBe(1)
      expect(await broker.retry!(q, {})).toBe(1)
      const row = await boss.getJobById(q, id)
      expect(row?.state).toBe('retry')
      const [again] = await boss.fetch(q)
      expect(again?.id).toBe(id)
      expect(again?.data).toEqual({fix: 'me'})
    })

    it.skipIf(nodeMajor < 22)(`our consumer and a pg-boss ${major} worker side by side never get the same job ${needs}`, async () => {
      const q = 'shared'
      const n = 300
      await broker.enqueue(`pgboss:${q}`, Array.from({length: n}, (_, i) => ({payload: JSON.stringify({i})})))
      const ours: number[] = []
      const theirs: number[] = []
      await boss.work(q, {pollingIntervalSeconds: 0.5, batchSize: 10}, async (jobs: {data: {i: number}}[]) => {
        for (const job of jobs) theirs.push(job.data.i)
      })
      const sub = await broker.consume(q, (lease: Lease) => {
        ours.push((lease.message.body as {i: number}).i)
        void lease.ack()
      }, {prefetch: 10})
      await until(async () => (ours.length + theirs.length >= n ? true : undefined), 30_000, 'all jobs')
      await sub.close()
      await boss.offWork(q)
      expect([...ours, ...theirs].sort((a, b) => a - b)).toEqual(Array.from({length: n}, (_, i) => i))
      expect(ours.length).toBeGreaterThan(0)
    })

    it.skipIf(nodeMajor < 22)(`a failed nack backs off and a dead-lettered lease reaches the dead-letter queue as pg-boss ${major} does ${needs}`, async () => {
      await boss.createQueue('dlq')
      await boss.createQueue('with-dlq', {deadLetter: 'dlq', retryLimit: 5, retryDelay: 60})
      await broker.enqueue('with-dlq', [{payload: '{"x":1}'}, {payload: '{"x":2}'}])
      const leases: Lease[] = []
      const sub = await broker.consume('with-dlq', (lease) => leases.push(lease), {prefetch: 2, leaseMs: 30_000})
      await until(async () => (leases.length > 1 ? true : undefined), 5000, 'two leases')
      await sub.close()
      const [first, second] = leases.sort((a, b) => (a.message.body as {x: number}).x - (b.message.body as {x: number}).x)
      await first!.nack({failed: true})
      const [retry] = await broker.peek('with-dlq', {state: 'delayed', limit: 1})
      expect(retry!.availableAt! - Date.now()).toBeGreaterThan(50_000)
      await second!.deadLetter('no way')
      expect((await broker.stats('with-dlq')).counts).toMatchObject({delayed: 1, dead: 1})
      const [copy] = await boss.fetch('dlq')
      expect(copy?.data).toEqual({x: 2})
    })
    it.skipIf(nodeMajor < 22 || major < 12)(`a key_strict_fifo queue is inspected but not consumed ${needs}`, async () => {
      const q = 'strict'
      await boss.createQueue(q, {policy: 'key_strict_fifo'})
      await boss.send(q, {n: 1}, {singletonKey: 'k'})
      expect((await broker.stats(q)).counts.waiting).toBe(1)
      await expect(broker.consume(q, () => {}, {prefetch: 1})).rejects.toMatchObject({message: expect.stringContaining('key_strict_fifo')})
    })

    it.skipIf(nodeMajor < 22 || major < 12)(`a job blocked by its dependencies is held back (delayed), and not consumed ${needs}`, async () => {
      const q = 'blocked'
      await boss.createQueue(q)
      const held = await boss.send(q, {held: true})
      await boss.send(q, {free: true})
      await admin('UPDATE pgboss.job SET blocked = true, pending_dependencies = 1 WHERE id = $1', [held], db.name)
      expect((await broker.stats(q)).counts).toMatchObject({waiting: 1, delayed: 1})
      const got: unknown[] = []
      const sub = await broker.consume(q, (lease: Lease) => {
        got.push(lease.message.body)
        void lease.ack()
      }, {prefetch: 5})
      await until(async () => (got.length > 0 ? true : undefined), 5000, 'the free job')
      await sleep(500)
      await sub.close()
      expect(got).toEqual([{free: true}])
    })
  })
}
