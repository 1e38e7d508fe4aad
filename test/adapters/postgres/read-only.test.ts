// PostgreSQL: read-only commands work for a role that has only USAGE on the pg-boss and
// graphile-worker schemas and SELECT on their tables, in sessions that are read-only
// (default_transaction_read_only), and leave every row as it was. graphile-worker's tables have
// row-level security with no policy: such a role sees none of their rows until it is given a SELECT
// policy (or BYPASSRLS), and queuectl says so instead of calling the queues missing or empty.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {PG_HOST, admin, freshDatabase, installGraphile, installPgboss, type TestDb} from './helpers.js'

const home = isolatedHome()
const ROLE = `qctl_reader_${process.pid}`
const QUEUES = ['pgboss:ro-orders', 'graphile:ro-report']
const SCHEMAS = ['pgboss', 'graphile_worker']

describe('postgres: read-only commands for a SELECT-only role', {timeout: 90_000}, () => {
  let db: TestDb
  let readerUrl: string

  /** Every table of both schemas with a digest of its rows. */
  async function rows(): Promise<Record<string, string>> {
    const tables = await admin<{t: string}>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = ANY($1) ORDER BY 1`, [SCHEMAS], db.name)
    const out: Record<string, string> = {}
    for (const {t} of tables) out[t] = (await admin<{d: string}>(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS d FROM ${t} x`, [], db.name))[0]!.d
    return out
  }

  beforeAll(async () => {
    db = await freshDatabase('readonly')
    await installPgboss(db.url)
    await installGraphile(db.url)
    for (const queue of QUEUES) {
      const r = await runCli(['enqueue', queue, '{"n":1}', '--count', '2', '--url', db.url], {env: home, timeoutMs: 60_000})
      expect({queue, code: r.code, stderr: r.stderr}).toEqual({queue, code: 0, stderr: ''})
    }
    await admin(`DROP ROLE IF EXISTS ${ROLE}`)
    await admin(`CREATE ROLE ${ROLE} LOGIN`)
    await admin(`ALTER ROLE ${ROLE} SET default_transaction_read_only = on`)
    for (const schema of SCHEMAS) {
      await admin(`GRANT USAGE ON SCHEMA ${schema} TO ${ROLE}`, [], db.name)
      await admin(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${ROLE}`, [], db.name)
    }
    readerUrl = `postgres://${ROLE}@${PG_HOST}/${db.name}`
  }, 60_000)

  afterAll(async () => {
    await db?.drop()
    await admin(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined)
  })

  it('graphile-worker queues: without a SELECT policy (row-level security) one line naming the policy or BYPASSRLS, exit 3; pg-boss reads on', async () => {
    // wait retries what fails until --timeout (exit 1), then names the last failure
    for (const [args, code] of [[['inspect', 'graphile:ro-report'], 3], [['export', 'graphile:ro-report'], 3], [['wait', 'graphile:ro-report', '--timeout', '3s'], 1]] as const) {
      const r = await runCli([...args, '--url', readerUrl], {env: home, timeoutMs: 60_000})
      expect({args, code: r.code}).toEqual({args, code})
      expect(r.stderr).toMatch(new RegExp(`row-level security and role "${ROLE}" neither owns them nor bypasses it.*ALTER ROLE "${ROLE}" BYPASSRLS, or CREATE POLICY … FOR SELECT TO "${ROLE}" USING \\(true\\) on graphile_worker._private_job_queues, graphile_worker._private_jobs, graphile_worker._private_tasks\n$`))
    }
    const boss = await runCli(['inspect', 'pgboss:ro-orders', '--url', readerUrl], {env: home, timeoutMs: 60_000})
    expect({code: boss.code, stderr: boss.stderr}).toEqual({code: 0, stderr: ''})
  })

  it('inspect, --peek, top --once, metrics --once, wait, export and purge/retry/move --dry-run succeed and change no row', async () => {
    // the least privilege graphile-worker's row-level security leaves: a SELECT policy on its three tables
    for (const table of ['_private_tasks', '_private_jobs', '_private_job_queues']) await admin(`CREATE POLICY qctl_read ON graphile_worker.${table} FOR SELECT TO ${ROLE} USING (true)`, [], db.name)
    const before = await rows()
    expect(Object.keys(before).length).toBeGreaterThan(4)
    const cli = (args: string[]) => runCli([...args, '--url', readerUrl], {env: home, timeoutMs: 60_000})
    const runs: Record<string, Awaited<ReturnType<typeof cli>>> = {
      list: await cli(['inspect', '--json']),
      top: await cli(['top', '--once']),
      metrics: await cli(['metrics', '--once']),
    }
    for (const queue of QUEUES) {
      runs[`${queue} inspect`] = await cli(['inspect', queue, '--json'])
      runs[`${queue} peek`] = await cli(['inspect', queue, '--peek', '10', '--json'])
      runs[`${queue} wait`] = await cli(['wait', queue, '--until', 'depth>0', '--timeout', '10s'])
      runs[`${queue} export`] = await cli(['export', queue])
      runs[`${queue} purge`] = await cli(['purge', queue, '--dry-run'])
      runs[`${queue} retry`] = await cli(['retry', queue, '--dry-run'])
      runs[`${queue} move`] = await cli(['move', queue, `${queue}-copy`, '--create', '--dry-run'])
    }
    const failed = Object.entries(runs).filter(([, r]) => r.code !== 0 || r.stderr.replace(/^exported \d+ messages? from .*\n/, '') !== '').map(([what, r]) => `${what}: ${r.code} ${r.stderr.trim()}`)
    expect(failed).toEqual([])
    for (const queue of QUEUES) {
      expect({queue, messages: JSON.parse(runs[`${queue} peek`]!.stdout).messages}).toMatchObject({queue, messages: [{body: {n: 1}}, {body: {n: 1}}]})
      expect(runs.top!.stdout).toContain(queue.split(':')[1])
      expect(runs.metrics!.stdout).toContain(queue.split(':')[1])
    }
    expect(await rows()).toEqual(before)
  })
})
