// graphile-worker as producer and worker beside queuectl, for each version (0.17 on Node 20 in
// graphile.test.ts, 0.18 on Node >= 22.18 in graphile-18.test.ts): jobs in every state made by the
// library show the same counts as its own columns say (is_available, locked, attempts); a job
// queuectl enqueues is run by its worker with the same payload; queue retry revives a permanently
// failed job as rescheduleJobs does; its worker and our consumer never share a job.
import type {Runner, Task, WorkerUtils} from 'graphile-worker'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {deadCount} from '../../../src/services/inspect.js'
import {admin, freshDatabase, importGraphile, installGraphile, openPostgres, quietLogger, sleep, type GraphilePackage, type TestDb, until} from './helpers.js'

export function describeGraphileInterop(version: string, pkg: GraphilePackage, enabled = true, needs = ''): void {
  describe(`graphile-worker ${version} beside queuectl`, () => {
    let db: TestDb
    let utils: WorkerUtils
    let broker: Broker
    const runners: Runner[] = []

    async function runWorker(taskList: Record<string, Task>, concurrency = 1): Promise<Runner> {
      const {run} = await importGraphile(pkg)
      const runner = await run({connectionString: db.url, taskList, concurrency, pollInterval: 100, noHandleSignals: true, logger: await quietLogger(pkg)})
      runners.push(runner)
      return runner
    }

    beforeAll(async () => {
      if (!enabled) return
      db = await freshDatabase(`graphile_${pkg}`)
      await installGraphile(db.url, undefined, pkg)
      const {makeWorkerUtils} = await importGraphile(pkg)
      utils = await makeWorkerUtils({connectionString: db.url, logger: await quietLogger(pkg)})
      broker = await openPostgres(db.url)
    })

    afterAll(async () => {
      for (const r of runners) await r.stop().catch(() => {})
      await utils?.release()
      await broker?.close()
      await db?.drop()
    })

    it.skipIf(!enabled)(`stats of many tasks at once (shared scans) give each task its own counts, and a write before a call is always counted${needs}`, async () => {
      const tasks = Array.from({length: 6}, (_, i) => `many-${i}`)
      for (const [i, task] of tasks.entries()) for (let n = 0; n <= i; n++) await utils.addJob(task, {n})
      const all = await Promise.all(tasks.map((t) => broker.stats(`graphile:${t}`)))
      expect(all.map((s) => s.counts.waiting)).toEqual([1, 2, 3, 4, 5, 6])
      // a call made after a write sees it, even while other counts are running
      const before = broker.stats('graphile:many-0')
      await utils.addJob('many-0', {n: 'late'})
      const [first, after] = await Promise.all([before, broker.stats('graphile:many-0')])
      expect(first.counts.waiting).toBeGreaterThanOrEqual(1)
      expect(after.counts.waiting).toBe(2)
    })

    it.skipIf(!enabled)(`counts every state as the library records it${needs}`, async () => {
      const q = 'states'
      let release!: () => void
      const blocked = new Promise<void>((resolve) => (release = resolve))
      let started = false
      await utils.addJob(q, {kind: 'fail'}, {priority: -3, maxAttempts: 5})
      await utils.addJob(q, {kind: 'die'}, {priority: -2, maxAttempts: 1})
      await utils.addJob(q, {kind: 'block'}, {priority: -1})
      const runner = await runWorker({
        [q]: async (payload) => {
          const kind = (payload as {kind: string}).kind
          if (kind === 'block') {
            started = true
            return blocked
          }
          throw new Error(`${kind} on purpose`)
        },
      })
      await until(() => (started ? true : undefined), 10_000, 'the blocking job to start')
      // concurrency 1 and the blocking job running: nothing else is taken now
      await utils.addJob(q, {n: 1})
      await utils.addJob(q, {n: 2})
      await utils.addJob(q, {later: true}, {runAt: new Date(Date.now() + 3600_000)})
      const doomed = await utils.addJob(q, {doomed: true})
      await utils.permanentlyFailJobs([doomed.id], 'given up')

      const stats = await broker.stats(q)
      expect(stats.name).toBe('graphile:states')
      expect(stats.counts).toEqual({waiting: 2, delayed: 1, retry: 1, inflight: 1, dead: 2})
      const [lib] = await admin<{available: number; locked: number; failed: number}>(
        `SELECT count(*) FILTER (WHERE is_available)::int AS available, count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS locked,
                count(*) FILTER (WHERE attempts >= max_attempts AND locked_at IS NULL)::int AS failed
         FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1`, [q], db.name)
      expect(lib).toEqual({available: stats.counts.waiting! + stats.counts.delayed! + stats.counts.retry!, locked: stats.counts.inflight, failed: stats.counts.dead})

      const dead = await broker.peek(q, {state: 'dead', limit: 10})
      expect(dead.map((m) => m.lastError).sort()).toEqual(['die on purpose', 'given up'])
      expect((await broker.peek(q, {limit: 10})).map((m) => m.body)).toEqual([{n: 1}, {n: 2}])
      const [inflight] = await broker.peek(q, {state: 'inflight', limit: 1})
      expect(inflight!.body).toEqual({kind: 'block'})
      expect((await broker.peek(q, {state: 'retry', limit: 1}))[0]!.lastError).toBe('fail on purpose')
      release()
      await runner.stop()
    })

    it.skipIf(!enabled)(`a job queuectl enqueues is run by graphile-worker with the same payload${needs}`, async () => {
      const q = 'to-graphile'
      const ids = await broker.enqueue(`graphile:${q}`, [{payload: JSON.stringify({to: 'ada', n: 1})}, {payload: '{"in":"group"}', groupId: 'serial'}])
      // the group is graphile-worker's named queue
      expect((await broker.peek(q, {limit: 5})).map((m) => m.groupId)).toEqual([undefined, 'serial'])
      const seen: {id: string; payload: unknown}[] = []
      const runner = await runWorker({
        [q]: async (payload, helpers) => {
          seen.push({id: helpers.job.id, payload})
        },
      })
      await until(() => (seen.length >= 2 ? true : undefined), 10_000, 'graphile-worker to run both')
      await runner.stop()
      expect(seen.map((s) => s.payload)).toEqual([{to: 'ada', n: 1}, {in: 'group'}])
      expect(seen.map((s) => s.id).sort()).toEqual([...ids].sort())
      await expect(broker.stats(q)).resolves.toMatchObject({counts: {waiting: 0, inflight: 0, dead: 0}})
    })

    it.skipIf(!enabled)(`a dedupId keeps the first job (job_key as unsafe_dedupe), in a batch, across batches and beside addJob${needs}`, async () => {
      const q = 'dedup'
      const theirs = await utils.addJob(q, {by: 'graphile'}, {jobKey: 'k-lib'})
      const first = await broker.enqueue(`graphile:${q}`, [
        {payload: '{"n":1}', dedupId: 'k1'},
        {payload: '{"n":2}'},
        {payload: '{"n":3}', dedupId: 'k1'},
        {payload: '{"n":4}', dedupId: 'k-lib'},
        {payload: '{"n":5}', dedupId: 'k2'},
      ])
      expect(new Set(first).size).toBe(4)
      expect(first[2]).toBe(first[0])
      expect(first[3]).toBe(theirs.id)
      const again = await broker.enqueue(`graphile:${q}`, [{payload: '{"n":6}', dedupId: 'k2'}, {payload: '{"n":7}', dedupId: 'k1'}])
      expect(again).toEqual([first[4], first[0]])
      const waiting = await broker.peek(q, {limit: 10})
      expect(waiting.map((m) => m.body)).toEqual([{by: 'graphile'}, {n: 1}, {n: 2}, {n: 5}])
      expect(waiting.map((m) => m.id)).toEqual([theirs.id, first[0], first[1], first[4]])
    })

    it.skipIf(!enabled)(`queue retry revives a permanently failed job as rescheduleJobs does, and the worker runs it${needs}`, async () => {
      const q = 'revive'
      const job = await utils.addJob(q, {fix: 'me'})
      await utils.permanentlyFailJobs([job.id], 'broken')
      expect((await broker.stats(q)).counts.dead).toBe(1)
      expect(await broker.retry!(`graphile:${q}`, {})).toBe(1)
      // attempts back to 0 (its last_error stays): waiting, not retry, which inspect counts as dead
      const after = await broker.stats(q)
      expect(after.counts).toMatchObject({waiting: 1, retry: 0, dead: 0})
      expect(deadCount(after)).toBe(0)
      const ran: unknown[] = []
      const runner = await runWorker({[q]: async (payload) => void ran.push(payload)})
      await until(() => (ran.length > 0 ? true : undefined), 10_000, 'the revived job to run')
      await runner.stop()
      expect(ran).toEqual([{fix: 'me'}])
    })

    it.skipIf(!enabled)(`our consumer and a graphile-worker side by side never get the same job${needs}`, async () => {
      const q = 'shared'
      const n = 300
      await broker.enqueue(`graphile:${q}`, Array.from({length: n}, (_, i) => ({payload: JSON.stringify({i})})))
      const ours: number[] = []
      const theirs: number[] = []
      const runner = await runWorker({[q]: async (payload) => void theirs.push((payload as {i: number}).i)}, 4)
      const sub = await broker.consume(q, (lease: Lease) => {
        ours.push((lease.message.body as {i: number}).i)
        void lease.ack()
      }, {prefetch: 10})
      await until(() => (ours.length + theirs.length >= n ? true : undefined), 30_000, 'all jobs')
      await sub.close()
      await runner.stop()
      expect([...ours, ...theirs].sort((a, b) => a - b)).toEqual(Array.from({length: n}, (_, i) => i))
      expect(ours.length).toBeGreaterThan(0)
    })

    it.skipIf(!enabled)(`a failed nack records the error and backs off as graphile-worker does${needs}`, async () => {
      const q = 'backoff'
      await broker.enqueue(`graphile:${q}`, [{payload: '{"x":1}'}])
      const leases: Lease[] = []
      const sub = await broker.consume(q, (lease) => leases.push(lease), {prefetch: 1})
      await until(() => (leases.length > 0 ? true : undefined), 5000, 'a lease')
      await sub.close()
      await leases[0]!.nack({failed: true})
      const [retry] = await broker.peek(q, {state: 'retry', limit: 1})
      expect(retry!.attempts).toBe(1)
      expect(retry!.availableAt! - Date.now()).toBeGreaterThan(1000) // exp(1) s
    })

    it.skipIf(!enabled)(`a batch takes one job per named queue, as graphile-worker 0.18's getJobs does (two of one queue never run at once)${needs}`, async () => {
      const q = 'serial'
      await broker.enqueue(`graphile:${q}`, [{payload: '{"n":1}', groupId: 'g'}, {payload: '{"n":2}', groupId: 'g'}, {payload: '{"n":3}'}])
      const leases: Lease[] = []
      const sub = await broker.consume(q, (lease) => leases.push(lease), {prefetch: 10})
      await until(() => (leases.length >= 2 ? true : undefined), 5000, 'two leases')
      await sleep(500)
      await sub.close()
      // one of group g and the ungrouped one; the second of g waits for the first to finish
      expect(leases.map((l) => (l.message.body as {n: number}).n).sort()).toEqual([1, 3])
      for (const lease of leases) await lease.ack()
    })
  })
}
