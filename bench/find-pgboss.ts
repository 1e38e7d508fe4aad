// `queue find` over many pg-boss jobs with a pushed-down filter, against the same answer by hand
// (SQL on pgboss.job), in a scratch database created and dropped here; 5 runs each, medians.
// Run: npm run build && npx tsx bench/find-pgboss.ts [jobs=1000000] [host=127.0.0.1:5432]
// The queue: `jobs` rows, 45% created, 35% completed, 20% failed; body {tenant: i % 997, seq, body}.
// The search: failed jobs of tenant 42 (0.02% of the rows), all of them (--scan above the count).
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import pg from 'pg'

const N = Number(process.argv[2] ?? 1_000_000)
const HOST = process.argv[3] ?? '127.0.0.1:5432'
const RUNS = 5
const DB = `qc_findbench_${process.pid}`
const URL_ = `postgres://postgres@${HOST}/${DB}`
const exec = promisify(execFile)
let peakKb = 0
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({connectionString: `postgres://postgres@${HOST}/postgres`})
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

async function timed(what: string, run: () => Promise<number>): Promise<void> {
  const ms: number[] = []
  let found = 0
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    found = await run()
    ms.push(performance.now() - t)
  }
  console.log(`| ${what} | ${found} | ${median(ms).toFixed(0)} | ${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)} | ${peakKb ? `${(peakKb / 1024).toFixed(0)} MB` : '-'} |`)
  peakKb = 0
}

await admin(`CREATE DATABASE ${DB}`)
try {
  const {default: Boss} = await import('pg-boss')
  const boss = new Boss({connectionString: URL_, supervise: false, schedule: false})
  boss.on('error', () => {})
  await boss.start()
  await boss.createQueue('big')
  await boss.stop({graceful: false, wait: true})
  const q = new pg.Client({connectionString: URL_})
  await q.connect()
  process.stderr.write(`filling ${N} pg-boss jobs…\n`)
  await q.query(`
    INSERT INTO pgboss.job (id, name, data, state, started_on, completed_on, output)
    SELECT gen_random_uuid(), 'big', jsonb_build_object('tenant', i % 997, 'seq', i, 'body', repeat('x', 100)),
      (CASE WHEN i % 100 < 45 THEN 'created' WHEN i % 100 < 80 THEN 'completed' ELSE 'failed' END)::pgboss.job_state,
      CASE WHEN i % 100 >= 45 THEN now() END, CASE WHEN i % 100 >= 45 THEN now() END,
      CASE WHEN i % 100 >= 80 THEN jsonb_build_object('message', 'smtp timeout') END
    FROM generate_series(1, ${N}) AS i`)
  await q.query('VACUUM ANALYZE')
  console.log(`| what (${N} jobs, failed jobs of tenant 42) | found | median ms | min–max ms | peak RSS |\n|---|---:|---:|---:|---:|`)
  await timed('SQL by hand: `SELECT … WHERE name = \'big\' AND state = \'failed\' AND data->\'tenant\' = \'42\'`', async () => (await q.query(`SELECT id, data, output FROM pgboss.job WHERE name = 'big' AND state = 'failed' AND data->'tenant' = '42'::jsonb`)).rowCount ?? 0)
  const cli = (where: string) => async () => {
    // GNU time's peak RSS of the CLI process (on stderr, last line)
    const {stdout, stderr} = await exec('/usr/bin/time', ['-f', '%M', process.execPath, 'bin/run.js', 'find', 'pgboss:big', '--state', 'failed', '--where', where, '--scan', String(N), '--json', '--url', URL_], {maxBuffer: 1 << 30})
    peakKb = Math.max(peakKb, Number(stderr.trim().split('\n').at(-1)))
    return stdout.trim() === '' ? 0 : stdout.trim().split('\n').length
  }
  await timed('`queue find --where \'body.tenant == 42\'` (pushed down; whole CLI process)', cli('body.tenant == 42'))
  await timed('`queue find --where \'body.tenant > 41 && body.tenant < 43\'` (not pushed down: every failed job read; whole CLI process)', cli('body.tenant > 41 && body.tenant < 43'))
  await q.end()
} finally {
  await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
}
