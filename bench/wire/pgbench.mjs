// PostgreSQL's own benchmark tool on pg-boss 10's queue SQL, for scale beside the wire-speed rows:
// a scratch database (dropped at the end) where pg-boss installs its schema and makes one queue;
// then pgbench runs (1) pg-boss's insert as `queue bench` batches it, 100 jobs a statement, and
// (2) a cycle on an emptied queue: insert 64, its fetch (pg-boss's fetchNextJob: SKIP LOCKED, 64 at
// a time) and completeJobs by id, so the backlog stays small as in the closed loop (with the 100k
// jobs of step 1 waiting, each fetch sorts them all: ~280 ms). One client each, -T seconds each.
// Jobs/s = transactions/s × jobs a transaction.
// Run: node bench/wire/pgbench.mjs [seconds=10]  (pgbench and the PG URL's server on this machine)
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'
import PgBoss from 'pg-boss'

const seconds = Number(process.argv[2] ?? 10)
const base = new URL(process.env.QUEUECTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/qc_wire')
const db = 'qc_wire_pgbench'
const url = `${base.protocol}//${base.username}@${base.host}/${db}`
const admin = new pg.Client({connectionString: `${base.protocol}//${base.username}@${base.host}/postgres`})
await admin.connect()
await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
await admin.query(`CREATE DATABASE ${db}`)
const dir = mkdtempSync(join(tmpdir(), 'wire-pgbench-'))
try {
  const boss = new PgBoss({connectionString: url, supervise: false, schedule: false})
  boss.on('error', () => {})
  await boss.start()
  await boss.createQueue('wire')
  await boss.stop({graceful: false, wait: true})
  // 128-byte bench payloads travel as base64 in the job data, as the yardstick and queuectl send them
  const data = JSON.stringify({b: Buffer.alloc(128, 0x78).toString('base64')})
  writeFileSync(join(dir, 'insert.sql'), `INSERT INTO pgboss.job (id, name, data) SELECT gen_random_uuid(), 'wire', '${data}'::jsonb FROM generate_series(1, 100);\n`)
  writeFileSync(join(dir, 'fetch.sql'), [
    `INSERT INTO pgboss.job (id, name, data) SELECT gen_random_uuid(), 'wire', '${data}'::jsonb FROM generate_series(1, 64);`,
    "WITH next AS (SELECT id FROM pgboss.job WHERE name = 'wire' AND state < 'active' AND start_after < now() ORDER BY priority desc, created_on, id LIMIT 64 FOR UPDATE SKIP LOCKED),",
    "f AS (UPDATE pgboss.job j SET state = 'active', started_on = now(), retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END FROM next WHERE name = 'wire' AND j.id = next.id RETURNING j.id)",
    "SELECT coalesce(array_agg(id), '{}')::text AS ids, count(*) AS n FROM f \\gset",
    "UPDATE pgboss.job SET completed_on = now(), state = 'completed', output = NULL WHERE name = 'wire' AND id IN (SELECT UNNEST(':ids'::uuid[])) AND state = 'active';",
    '',
  ].join('\n'))
  const pgbench = (file) => {
    const out = execFileSync('pgbench', ['-n', '-c', '1', '-j', '1', '-T', String(seconds), '-P', String(seconds), '-f', join(dir, file), '-h', base.hostname, '-p', base.port || '5432', '-U', base.username, db], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1])
    const lat = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1])
    return {tps, lat}
  }
  const ins = pgbench('insert.sql')
  const c = new pg.Client({connectionString: url})
  await c.connect()
  const queued = Number((await c.query("SELECT count(*) FROM pgboss.job WHERE name = 'wire' AND state = 'created'")).rows[0].count)
  await c.query("DELETE FROM pgboss.job WHERE name = 'wire'")
  await c.query('VACUUM ANALYZE pgboss.job') // or the fetch wades through the deleted rows' index entries
  const fetch = pgbench('fetch.sql')
  const left = Number((await c.query("SELECT count(*) FROM pgboss.job WHERE name = 'wire' AND state <> 'completed'")).rows[0].count)
  await c.end()
  const loads = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')
  console.log(`pgbench, 1 client, ${seconds} s each, pg-boss 10 schema (load average ${loads}):`)
  console.log(`  insert 100 jobs a statement: ${Math.round(ins.tps)} statements/s = ${Math.round(ins.tps * 100)} jobs/s, ${ins.lat} ms a statement (${queued} queued)`)
  console.log(`  insert 64 + fetch 64 + complete: ${Math.round(fetch.tps)} cycles/s = ${Math.round(fetch.tps * 64)} jobs/s through, ${fetch.lat} ms a cycle (${left} not completed at the end)`)
} finally {
  rmSync(dir, {recursive: true, force: true})
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  await admin.end()
}
