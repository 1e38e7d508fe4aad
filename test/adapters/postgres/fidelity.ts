// Truth to the library, for every write path of the CLI: a JSON value given to `queue enqueue`
// (plain, --delay, --priority), revived by `queue retry`, carried by `queue move` or by
// `queue export | queue import` reaches the library's own worker as exactly that value (deep-equal:
// objects, arrays, strings, numbers, nesting), with nothing of ours added; what the job data has no
// place for is refused with one line. Run per library and version: pg-boss 10/11/12, graphile 0.17/0.18.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli, type CliResult} from '../../helpers/cli.js'
import {admin, freshDatabase, importGraphile, importPgboss, installGraphile, quietLogger, sleep, type GraphilePackage, type TestDb, until} from './helpers.js'

/** The library's own side: its worker, its way to make a queue whose failed job is dead at once. */
export interface Library {
  /** pgboss, graphile: the kind queuectl addresses its queues by. */
  kind: string
  install(url: string): Promise<void>
  /** Makes the queue (where the library has queues) so that a job failing once is failed for good. */
  prepareDeadOnFailure(queue: string): Promise<void>
  /** After the worker failed the job once: whatever the library does to give up on it. */
  giveUp(queue: string): Promise<void>
  /** Starts the library's worker on `queue`: `handle` gets each job's data, a throw fails the job. Resolves with its stop. */
  work(queue: string, handle: (data: unknown) => void): Promise<() => Promise<void>>
  /** Adds a job with the library's own client. */
  send(queue: string, data: unknown): Promise<void>
  close(): Promise<void>
}

export function pgbossLibrary(major: 10 | 11 | 12): (url: string) => Promise<Library> {
  return async (url) => {
    const Boss = major === 10 ? ((await import('pg-boss')).default as unknown as new (o: Record<string, unknown>) => any) : await importPgboss(major)
    const boss = new Boss({connectionString: url, supervise: false, schedule: false})
    boss.on('error', () => {})
    return {
      kind: 'pgboss',
      install: async () => {
        await boss.start()
      },
      prepareDeadOnFailure: async (queue) => {
        await boss.createQueue(queue, major === 10 ? {name: queue, retryLimit: 0} : {retryLimit: 0})
      },
      giveUp: async () => {}, // retryLimit 0: the failure was final
      work: async (queue, handle) => {
        await boss.work(queue, {pollingIntervalSeconds: 0.5, batchSize: 1}, async (jobs: {data: unknown}[]) => {
          for (const job of jobs) handle(job.data)
        })
        return () => boss.offWork(queue)
      },
      send: async (queue, data) => {
        await boss.send(queue, data)
      },
      close: () => boss.stop({graceful: false, wait: true}),
    }
  }
}

export function graphileLibrary(pkg: GraphilePackage): (url: string) => Promise<Library> {
  return async (url) => {
    const lib = await importGraphile(pkg)
    const logger = await quietLogger(pkg)
    let utils: Awaited<ReturnType<typeof lib.makeWorkerUtils>> | undefined
    const db = url.slice(url.lastIndexOf('/') + 1)
    return {
      kind: 'graphile',
      install: async () => {
        await installGraphile(url, undefined, pkg)
        utils = await lib.makeWorkerUtils({connectionString: url, logger})
      },
      prepareDeadOnFailure: async () => {}, // max_attempts is per job: giveUp marks it
      giveUp: async (queue) => {
        const rows = await admin<{id: string}>(
          'SELECT j.id::text AS id FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1', [queue], db)
        await utils!.permanentlyFailJobs(rows.map((r) => r.id), 'given up')
      },
      work: async (queue, handle) => {
        const runner = await lib.run({connectionString: url, taskList: {[queue]: async (payload) => handle(payload)}, concurrency: 1, pollInterval: 100, noHandleSignals: true, logger})
        return () => runner.stop()
      },
      send: async (queue, data) => {
        await utils!.addJob(queue, data as Record<string, unknown>)
      },
      close: async () => {
        await utils?.release()
      },
    }
  }
}

/** Each kind of JSON value, nested too: what the worker must receive unchanged. */
const VALUES: unknown[] = [{k: 1}, [1, 'two'], 'just text', 42, {deep: {list: [1, {b: null, t: true}], s: 'é 日本 🚀'}}]

/** JSON with object keys sorted: jsonb keeps its own key order, which is not part of the value. */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]`
  : v !== null && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  : JSON.stringify(v)
/** The values themselves (compared deep-equal), in an order that does not depend on arrival. */
const byJson = (values: unknown[]) => [...values].sort((a, b) => canonical(a).localeCompare(canonical(b)))

/** `enabled` false (a library that needs a newer Node): every test is skipped, `needs` saying why in its name. */
export function describeWriteFidelity(title: string, open: (url: string) => Promise<Library>, enabled = true, needs = ''): void {
  describe(`${title}: every write path reaches the library's worker with exactly the data given`, () => {
    let db: TestDb
    let lib: Library
    const env = isolatedHome()
    const stops: (() => Promise<void>)[] = []
    const q = (name: string) => `${lib.kind}:${name}`
    const cli = (args: string[], input?: string): Promise<CliResult> => runCli([...args, '--url', db.url], {env, input})
    const ok = async (args: string[], input?: string): Promise<CliResult> => {
      const result = await cli(args, input)
      expect(result.code, result.stderr).toBe(0)
      return result
    }

    /** Runs the library's worker on `queue` until it has seen `n` jobs; their data, in the order run. */
    async function received(queue: string, n: number, ms = 15_000): Promise<unknown[]> {
      const seen: unknown[] = []
      const stop = await lib.work(queue, (data) => void seen.push(data))
      stops.push(stop)
      try {
        await until(() => (seen.length >= n ? true : undefined), ms, `${n} jobs run by the worker on ${queue}`)
        await sleep(300) // nothing more than that arrives
      } finally {
        await stop()
      }
      return seen
    }

    beforeAll(async () => {
      if (!enabled) return
      db = await freshDatabase(`fidelity_${title}`)
      lib = await open(db.url)
      await lib.install(db.url)
    }, 60_000)

    afterAll(async () => {
      if (!enabled) return
      for (const stop of stops) await stop().catch(() => {})
      await lib?.close().catch(() => {})
      await db?.drop()
    }, 30_000)

    it.skipIf(!enabled)(`enqueue: an object, an array, a string, a number and nested values arrive as given${needs}`, async () => {
      for (const value of VALUES) await ok(['enqueue', q('plain'), JSON.stringify(value)])
      expect(byJson(await received('plain', VALUES.length))).toEqual(byJson(VALUES))
    }, 60_000)

    it.skipIf(!enabled)(`enqueue --delay and --priority: the data arrives as given, the delayed job when due${needs}`, async () => {
      const sentAt = Date.now()
      await ok(['enqueue', q('options'), '{"later":[1,{"x":"y"}]}', '--delay', '2s'])
      await ok(['enqueue', q('options'), '["urgent",2]', '--priority', '5'])
      const seen: {data: unknown; at: number}[] = []
      const stop = await lib.work('options', (data) => void seen.push({data, at: Date.now()}))
      stops.push(stop)
      await until(() => (seen.length >= 2 ? true : undefined), 15_000, 'both jobs')
      await stop()
      expect(seen.map((s) => s.data)).toEqual([['urgent', 2], {later: [1, {x: 'y'}]}])
      expect(seen[1]!.at - sentAt).toBeGreaterThanOrEqual(1500)
    }, 60_000)

    it.skipIf(!enabled)(`retry of a dead job: inspect, top, metrics and wait count it waiting, not dead, and the worker runs it with its data${needs}`, async () => {
      const value = {fix: ['me', 1], n: {deep: true}}
      await lib.prepareDeadOnFailure('revive')
      await ok(['enqueue', q('revive'), JSON.stringify(value)])
      const failed: unknown[] = []
      const stop = await lib.work('revive', (data) => {
        failed.push(data)
        throw new Error('broken on purpose')
      })
      stops.push(stop)
      await until(() => (failed.length > 0 ? true : undefined), 15_000, 'the worker to fail the job')
      await stop()
      await lib.giveUp('revive')
      expect(failed).toEqual([value])
      const dead = JSON.parse((await ok(['inspect', q('revive'), '--json'])).stdout) as {queue: {counts: Record<string, number>}}
      expect(dead.queue.counts.dead).toBe(1)

      await ok(['retry', q('revive'), '--yes'])
      const back = JSON.parse((await ok(['inspect', q('revive'), '--json'])).stdout) as {queue: {counts: Record<string, number>}}
      expect(back.queue.counts).toMatchObject({waiting: 1, dead: 0})
      expect(back.queue.counts.retry ?? 0).toBe(0)
      expect((await ok(['inspect', q('revive')])).stdout).toMatch(/waiting 1 .*dead 0/)
      const top = (await ok(['top', '--once'])).stdout.split('\n').find((line) => line.startsWith(q('revive')))
      expect(top?.trim().split(/\s+/).slice(2, 6)).toEqual(['1', '0', '0', '0']) // waiting, in-flight, delayed, dead
      const metrics = (await ok(['metrics', '--once', '--queue', q('revive')])).stdout
      expect(metrics).toContain(`queue="${q('revive')}",kind="${lib.kind}",state="dead"} 0`)
      expect(metrics).toContain(`queue="${q('revive')}",kind="${lib.kind}",state="waiting"} 1`)
      await ok(['wait', q('revive'), '--until', 'dead==0', '--timeout', '5s'])

      expect(await received('revive', 1)).toEqual([value])
    }, 90_000)

    it.skipIf(!enabled)(`move between two queues: the worker on the destination gets the data as given${needs}`, async () => {
      for (const value of VALUES) await ok(['enqueue', q('move-from'), JSON.stringify(value)])
      await ok(['move', q('move-from'), q('move-to'), '--yes', '--create', '--idle', '1s'])
      expect(byJson(await received('move-to', VALUES.length))).toEqual(byJson(VALUES))
      const left = JSON.parse((await ok(['inspect', q('move-from'), '--json'])).stdout) as {queue: {counts: Record<string, number>}}
      expect(left.queue.counts.waiting).toBe(0)
    }, 60_000)

    it.skipIf(!enabled)(`export | import into another queue: the worker gets the data as given, jobs the library made included, nothing of ours added${needs}`, async () => {
      const own = {made: 'by the library', list: [1, {x: null}]}
      for (const value of VALUES) await ok(['enqueue', q('export-from'), JSON.stringify(value)])
      await lib.send('export-from', own)
      const exported = (await ok(['export', q('export-from')])).stdout
      const lines = exported.trim().split('\n').map((line) => JSON.parse(line) as {payload: string; name?: string; headers?: Record<string, string>})
      expect(lines).toHaveLength(VALUES.length + 1)
      for (const line of lines) {
        expect(line.payload).not.toContain('_queuectl')
        expect(line.name).toBeUndefined()
        expect(line.headers ?? {}).toEqual({})
      }
      expect(byJson(lines.map((line) => JSON.parse(line.payload)))).toEqual(byJson([...VALUES, own]))
      await ok(['import', q('export-to'), '--create'], exported)
      expect(byJson(await received('export-to', VALUES.length + 1))).toEqual(byJson([...VALUES, own]))
    }, 60_000)

    it.skipIf(!enabled)(`what the job data has no place for is refused with one line and the exit code, and nothing is stored${needs}`, async () => {
      await ok(['enqueue', q('refused'), '{"ok":true}'])
      const cases: [string[], number, RegExp][] = [
        [['plain text'], 2, /is not JSON: "plain text" — send a JSON value/],
        [['{"a":1}', '-H', 'trace=abc'], 4, /no headers: .* cannot keep header "trace"/],
        [['{"a":1}', '--name', 'other'], 4, /cannot keep name "other"/],
        [['"x"', '--content-type', 'text/plain'], 4, /cannot keep content type "text\/plain"/],
        [['{"nul":"a\\u0000b"}'], 2, /cannot hold the NUL character/],
      ]
      for (const [args, code, message] of cases) {
        const result = await cli(['enqueue', q('refused'), ...args])
        expect(result.code).toBe(code)
        expect(result.stderr).toMatch(message)
        expect(result.stderr.trim().split('\n')).toHaveLength(1)
      }
      const after = JSON.parse((await ok(['inspect', q('refused'), '--json'])).stdout) as {queue: {counts: Record<string, number>}}
      expect(after.queue.counts.waiting).toBe(1)
    }, 60_000)
  })
}
