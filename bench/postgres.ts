// PostgreSQL adapter (postgres://, flavors pgboss and graphile) vs pg-boss 10 and graphile-worker's
// own APIs doing the same work, side by side in a scratch database created and dropped here; rounds
// alternate which goes first; medians. Then inspect of a queue of 1M jobs in mixed states.
// Run: npm run build && npx tsx bench/postgres.ts [jobs=20000] [rounds=3] [host=127.0.0.1:5432]
// Enqueue: batches of 1,000 (adapter enqueue() per batch vs boss.insert() / workerUtils.addJobs()),
// and one job per call with 10 calls in flight (adapter enqueue() of 1 vs boss.send() / addJob()).
// Consume+complete: adapter consume() prefetch 100, every lease acked, vs the libraries' workers at
// 100 jobs at a time (configurations printed with the table).
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import pg from 'pg'
import type PgBoss from 'pg-boss'
import type {Broker} from '../src/broker/contract.js'

// the built adapter, as users run it (as bench/redis.ts; imported by URL so typechecking does not need a build)
const built = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href)
const {createBroker} = (await built('adapters/registry.js')) as typeof import('../src/adapters/registry.js')

const N = Number(process.argv[2] ?? 20_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const HOST = process.argv[4] ?? '127.0.0.1:5432'
const BATCH = 1000
const SINGLE_N = Math.max(100, Math.floor(N / 10))
const LANES = 10
const CONCURRENCY = 100
// pg-boss's work() waits out its polling interval (0.5 s at least) after every batch: ~200 jobs/s at batchSize 100
const WORK_N = Math.min(Math.floor(N / 2), 2000)
const BIG = Number(process.env.BENCH_BIG ?? 1_000_000)
const INSPECT_RUNS = 5
const DB = `qc_pgbench_${process.pid}`
const URL_ = `postgres://postgres@${HOST}/${DB}`
const data = (i: number) => ({seq: i, to: 'ada@example.com', body: 'x'.repeat(100)})
const payloads = Array.from({length: N}, (_, i) => JSON.stringify(data(i)))

const adminQuery = async (sql: string, database = 'postgres') => {
  const c = new pg.Client({connectionString: `postgres://postgres@${HOST}/${database}`})
  await c.connect()
  try {
    return (await c.query(sql)).rows
  } finally {
    await c.end()
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const chunks = <T>(items: T[]) => Array.from({length: Math.ceil(items.length / BATCH)}, (_, i) => items.slice(i * BATCH, (i + 1) * BATCH))

/** `count` calls of `one(i)`, LANES in flight. */
async function lanes(count: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < count) await one(next++)
  }
  await Promise.all(Array.from({length: LANES}, lane))
}

await adminQuery(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
await adminQuery(`CREATE DATABASE ${DB}`)
const {default: Boss} = await import('pg-boss')
const {makeWorkerUtils, run: runGraphile, runMigrations, Logger} = await import('graphile-worker')
const quiet = new Logger(() => () => {})
let boss: PgBoss | undefined
let broker: Broker | undefined
let sql: pg.Pool | undefined
let utils: Awaited<ReturnType<typeof makeWorkerUtils>> | undefined

try {
  // the libraries install their own tables
  boss = new Boss({connectionString: URL_, supervise: false, schedule: false})
  boss.on('error', (e) => process.stderr.write(`pg-boss: ${e.message}\n`))
  await boss.start()
  await runMigrations({connectionString: URL_, logger: quiet})
  utils = await makeWorkerUtils({connectionString: URL_, logger: quiet})
  sql = new pg.Pool({connectionString: URL_, max: 2})
  broker = await createBroker(URL_, {timeoutMs: 10_000})
  await broker.connect()
  const b = broker
  const q = sql
  const boss_ = boss
  const u = utils

  /** Polls until the jobs taken are written as done (the libraries' workers complete without telling the caller when). */
  const drained = async (kind: 'pgboss' | 'graphile', name: string) => {
    const check = kind === 'pgboss'
      ? `SELECT count(*)::int AS n FROM pgboss.job WHERE name = '${name}' AND state = 'active'`
      : `SELECT count(*)::int AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = '${name}'`
    while ((await q.query(check)).rows[0].n > 0) await sleep(5)
  }

  // ---- the adapter ----
  const adapterBatches = async (queue: string) => {
    for (const c of chunks(payloads)) await b.enqueue(queue, c.map((p) => ({payload: p})))
  }
  const adapterSingles = (queue: string) => lanes(SINGLE_N, (i) => b.enqueue(queue, [{payload: payloads[i]!}]))
  const adapterConsume = async (queue: string, count: number) => {
    let got = 0
    let sub: Awaited<ReturnType<Broker['consume']>> | undefined
    await new Promise<void>((resolve, reject) => {
      void b.consume(queue, (lease) => {
        void lease.ack().then(() => {
          if (++got === count) resolve()
        }, reject)
      }, {prefetch: CONCURRENCY}).then((s) => (sub = s), reject)
    })
    await sub!.close()
  }

  // ---- pg-boss's own API ----
  const bossBatches = async (name: string) => {
    for (const c of chunks(payloads)) await boss_.insert(c.map((p) => ({name, data: JSON.parse(p)})))
  }
  const bossSingles = (name: string) => lanes(SINGLE_N, (i) => boss_.send(name, JSON.parse(payloads[i]!)))
  // boss.work: the library's worker (fetches a batch, runs the handler, completes the batch, waits out the polling interval)
  const bossWork = async (name: string, count: number) => {
    let got = 0
    let done!: () => void
    const all = new Promise<void>((r) => (done = r))
    const id = await boss_.work(name, {batchSize: CONCURRENCY, pollingIntervalSeconds: 0.5}, async (jobs) => {
      got += jobs.length
      if (got >= count) done()
    })
    await all
    await boss_.offWork({id})
    await drained('pgboss', name)
  }
  // boss.fetch + boss.complete in a loop: the library's API with no polling interval between batches
  const bossFetchLoop = async (name: string, count: number) => {
    let got = 0
    while (got < count) {
      const jobs = await boss_.fetch(name, {batchSize: CONCURRENCY})
      if (jobs.length === 0) continue
      await boss_.complete(name, jobs.map((j) => j.id))
      got += jobs.length
    }
  }

  // ---- graphile-worker's own API ----
  const graphileBatches = async (task: string) => {
    for (const c of chunks(payloads)) await u.addJobs(c.map((p) => ({identifier: task, payload: JSON.parse(p)})))
  }
  const graphileSingles = (task: string) => lanes(SINGLE_N, (i) => u.addJob(task, JSON.parse(payloads[i]!)))
  const graphileRun = async (task: string, count: number) => {
    let got = 0
    let done!: () => void
    const all = new Promise<void>((r) => (done = r))
    const runner = await runGraphile({
      connectionString: URL_,
      concurrency: CONCURRENCY,
      maxPoolSize: 10,
      pollInterval: 100,
      noHandleSignals: true,
      logger: quiet,
      taskList: {
        [task]: async () => {
          if (++got === count) done()
        },
      },
      preset: {worker: {localQueue: {size: CONCURRENCY}, completeJobBatchDelay: 0}},
    })
    await all
    await drained('graphile', task)
    await runner.stop()
  }

  // ---- measuring ----
  const results: Record<string, number[]> = {}
  const measure = async (label: string, count: number, work: () => Promise<void>) => {
    const t = performance.now()
    await work()
    const rate = count / ((performance.now() - t) / 1000)
    ;(results[label] ??= []).push(rate)
    process.stderr.write(`${label}: ${rate.toFixed(0)} jobs/s\n`)
  }

  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['lib', 'adapter'] : ['adapter', 'lib']
    // pg-boss: queues are made with createQueue first (v10 needs it); the adapter makes its own the same way
    for (const who of order) {
      const name = `${who}-batch-${round}`
      const single = `${who}-single-${round}`
      if (who === 'lib') {
        await boss_.createQueue(name)
        await boss_.createQueue(single)
        await measure('pgboss enqueue ×1000: insert()', N, () => bossBatches(name))
        await measure('pgboss enqueue ×1: send()', SINGLE_N, () => bossSingles(single))
      } else {
        // made first, as pg-boss's side does: concurrent first enqueues to a new queue deadlock in create_queue (see BENCHMARKS.md)
        await b.createQueue(`pgboss:${name}`)
        await b.createQueue(`pgboss:${single}`)
        await measure('pgboss enqueue ×1000: adapter', N, () => adapterBatches(`pgboss:${name}`))
        await measure('pgboss enqueue ×1: adapter', SINGLE_N, () => adapterSingles(`pgboss:${single}`))
      }
    }
    // the first WORK_N jobs of each batch queue against work(), the rest against fetch()+complete()
    for (const who of order) {
      const name = `${who}-batch-${round}`
      if (who === 'lib') await measure('pgboss consume: work()', WORK_N, () => bossWork(name, WORK_N))
      else await measure('pgboss consume: adapter', WORK_N, () => adapterConsume(`pgboss:${name}`, WORK_N))
    }
    for (const who of order) {
      const name = `${who}-batch-${round}`
      if (who === 'lib') await measure('pgboss consume: fetch()+complete()', N - WORK_N, () => bossFetchLoop(name, N - WORK_N))
      else await measure('pgboss consume (rest): adapter', N - WORK_N, () => adapterConsume(`pgboss:${name}`, N - WORK_N))
    }
    for (const who of order) {
      const task = `${who}-batch-${round}`
      const single = `${who}-single-${round}`
      if (who === 'lib') {
        await measure('graphile enqueue ×1000: addJobs()', N, () => graphileBatches(task))
        await measure('graphile enqueue ×1: addJob()', SINGLE_N, () => graphileSingles(single))
      } else {
        await measure('graphile enqueue ×1000: adapter', N, () => adapterBatches(`graphile:${task}`))
        await measure('graphile enqueue ×1: adapter', SINGLE_N, () => adapterSingles(`graphile:${single}`))
      }
    }
    for (const who of order) {
      const task = `${who}-batch-${round}`
      if (who === 'lib') await measure('graphile consume: run()', N, () => graphileRun(task, N))
      else await measure('graphile consume: adapter', N, () => adapterConsume(`graphile:${task}`, N))
    }
    // completed pg-boss jobs stay in the table; keep later rounds on the same footing
    await q.query('DELETE FROM pgboss.job')
    await q.query('DELETE FROM graphile_worker._private_jobs')
    await q.query('VACUUM ANALYZE')
  }

  // ---- inspect of 1M jobs ----
  process.stderr.write(`filling 1M jobs per library…\n`)
  await boss_.createQueue('big')
  // mixed states: 45% created (5% of all delayed), 5% retry, 5% active, 35% completed, 7% failed, 3% cancelled
  await q.query(`
    INSERT INTO pgboss.job (id, name, data, state, start_after, started_on, completed_on, retry_count)
    SELECT gen_random_uuid(), 'big', jsonb_build_object('seq', i, 'body', repeat('x', 100)),
      (CASE WHEN i % 100 < 45 THEN 'created' WHEN i % 100 < 50 THEN 'retry' WHEN i % 100 < 55 THEN 'active'
            WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 97 THEN 'failed' ELSE 'cancelled' END)::pgboss.job_state,
      CASE WHEN i % 100 < 5 THEN now() + interval '1 hour' ELSE now() - interval '1 minute' END,
      CASE WHEN i % 100 >= 50 THEN now() END,
      CASE WHEN i % 100 >= 55 AND i % 100 < 100 THEN now() END,
      CASE WHEN i % 100 >= 45 AND i % 100 < 50 THEN 1 ELSE 0 END
    FROM generate_series(1, ${BIG}) AS i`)
  await b.enqueue('graphile:big', [{payload: '{}'}])
  // 60% waiting (5% of all delayed), 10% retry (failed once), 10% locked, 20% dead
  await q.query(`
    INSERT INTO graphile_worker._private_jobs (task_id, payload, run_at, attempts, max_attempts, last_error, locked_at, locked_by)
    SELECT (SELECT id FROM graphile_worker._private_tasks WHERE identifier = 'big'), jsonb_build_object('seq', i, 'body', repeat('x', 100)),
      CASE WHEN i % 100 < 5 THEN now() + interval '1 hour' ELSE now() - interval '1 minute' END,
      CASE WHEN i % 100 < 60 THEN 0 WHEN i % 100 < 70 THEN 1 WHEN i % 100 < 80 THEN 1 ELSE 25 END,
      25,
      CASE WHEN i % 100 >= 60 AND i % 100 < 70 OR i % 100 >= 80 THEN 'boom' END,
      CASE WHEN i % 100 >= 70 AND i % 100 < 80 THEN now() END,
      CASE WHEN i % 100 >= 70 AND i % 100 < 80 THEN 'bench-worker' END
    FROM generate_series(2, ${BIG}) AS i`)
  await q.query('VACUUM ANALYZE')

  const timeMs = async (run: () => Promise<unknown>) => {
    const xs: number[] = []
    for (let i = 0; i < INSPECT_RUNS; i++) {
      const t = performance.now()
      await run()
      xs.push(performance.now() - t)
    }
    return xs
  }
  const exec = promisify(execFile)
  const bin = new URL('../bin/run.js', import.meta.url).pathname
  const cli = (...args: string[]) => exec(process.execPath, [bin, ...args], {env: {...process.env, NO_COLOR: '1'}})
  const inspectRows: string[] = []
  const row = (what: string, xs: number[]) => inspectRows.push(`| ${what} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`)
  const bossCounts = "SELECT state, count(*) FROM pgboss.job WHERE name = 'big' GROUP BY state"
  const graphileCounts = `SELECT count(*) FILTER (WHERE locked_at IS NOT NULL) AS locked, count(*) FILTER (WHERE attempts >= max_attempts) AS dead, count(*) FROM graphile_worker._private_jobs WHERE task_id = (SELECT id FROM graphile_worker._private_tasks WHERE identifier = 'big')`
  process.stderr.write(`${JSON.stringify((await b.stats('pgboss:big')).counts)}\n${JSON.stringify((await b.stats('graphile:big')).counts)}\n`)
  row('pgboss: `SELECT state, count(*) … GROUP BY state` (reference)', await timeMs(() => q.query(bossCounts)))
  row('pgboss: adapter `stats()`', await timeMs(() => b.stats('pgboss:big')))
  row('pgboss: `queue inspect pgboss:big` (whole CLI process)', await timeMs(() => cli('inspect', '--url', URL_, 'pgboss:big')))
  row('graphile: `SELECT count(*) FILTER (…)` locked/dead/all (reference)', await timeMs(() => q.query(graphileCounts)))
  row('graphile: adapter `stats()`', await timeMs(() => b.stats('graphile:big')))
  row('graphile: `queue inspect graphile:big` (whole CLI process)', await timeMs(() => cli('inspect', '--url', URL_, 'graphile:big')))
  row('both: `queue inspect` (every queue, whole CLI process)', await timeMs(() => cli('inspect', '--url', URL_)))
  row('`queue --version` (CLI start-up alone)', await timeMs(() => cli('--version')))
  const plan = async (text: string) => (await q.query(`EXPLAIN ${text}`)).rows.map((r) => r['QUERY PLAN'] as string).filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost.*$/, '')).join('; ')
  const bossPlan = await plan(`SELECT count(*) FROM pgboss.job WHERE name = 'big'`)
  const graphilePlan = await plan(`SELECT count(*) FROM graphile_worker._private_jobs WHERE task_id = 1`)

  // ---- the report ----
  const line = (what: string, lib: string, ours: string) => {
    const l = results[lib]!
    const a = results[ours]!
    const ratios = a.map((x, i) => x / l[i]!)
    return `| ${what} | ${lib.split(': ')[1]} | ${median(l).toFixed(0)} | ${median(a).toFixed(0)} | ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`
  }
  console.log(`${N} jobs (×1 rows: ${SINGLE_N}) of ~150 B JSON, ${ROUNDS} rounds, medians; ratio = median of per-round adapter/library ratios; PostgreSQL at ${HOST}`)
  console.log('')
  console.log('| operation | library API | library jobs/s | adapter jobs/s | adapter / library |')
  console.log('|---|---|---:|---:|---:|')
  console.log(line('pgboss enqueue, batches of 1000', 'pgboss enqueue ×1000: insert()', 'pgboss enqueue ×1000: adapter'))
  console.log(line(`pgboss enqueue, 1 per call, ${LANES} in flight`, 'pgboss enqueue ×1: send()', 'pgboss enqueue ×1: adapter'))
  console.log(line(`pgboss consume+complete ${WORK_N} jobs, ${CONCURRENCY} at a time`, 'pgboss consume: work()', 'pgboss consume: adapter'))
  console.log(line(`pgboss consume+complete ${N - WORK_N} jobs, ${CONCURRENCY} at a time`, 'pgboss consume: fetch()+complete()', 'pgboss consume (rest): adapter'))
  console.log(line('graphile enqueue, batches of 1000', 'graphile enqueue ×1000: addJobs()', 'graphile enqueue ×1000: adapter'))
  console.log(line(`graphile enqueue, 1 per call, ${LANES} in flight`, 'graphile enqueue ×1: addJob()', 'graphile enqueue ×1: adapter'))
  console.log(line(`graphile consume+complete, ${CONCURRENCY} at a time`, 'graphile consume: run()', 'graphile consume: adapter'))
  console.log('')
  console.log(`Adapter consume: prefetch ${CONCURRENCY}, each lease acked. pg-boss work(): one worker, batchSize ${CONCURRENCY}, pollingIntervalSeconds 0.5 (its minimum; it waits that long after each batch), timed until the last completion is in the table; fetch()+complete(): batchSize ${CONCURRENCY}, one complete() per batch, no pause. graphile run(): concurrency ${CONCURRENCY}, localQueue.size ${CONCURRENCY}, completeJobBatchDelay 0, pollInterval 100 ms, maxPoolSize 10. graphile run() is timed from start-up until the last job is gone from the table (polled every 5 ms).`)
  console.log('')
  console.log(`Inspect of 1M jobs per library (pg-boss: 45% created of which 5% delayed, 5% retry, 5% active, 35% completed, 7% failed, 3% cancelled; graphile: 55% waiting, 5% delayed, 10% retry, 10% locked, 20% dead), ${INSPECT_RUNS} runs:`)
  console.log('')
  console.log('| what | median ms | min–max ms |')
  console.log('|---|---:|---:|')
  for (const r of inspectRows) console.log(r)
  console.log('')
  console.log(`Plans for count(*) of the queue: pg-boss: ${bossPlan}; graphile: ${graphilePlan}`)
} finally {
  await broker?.close().catch(() => {})
  await Promise.resolve(utils?.release()).catch(() => {})
  await boss?.stop({graceful: false, wait: true}).catch(() => {})
  await sql?.end().catch(() => {})
  await adminQuery(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
}
