// PostgreSQL test fixtures: each test file gets its own database (dropped afterwards), with the
// real libraries' tables installed by the libraries themselves (pg-boss start, graphile-worker's
// runMigrations).
import pg from 'pg'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'

export const PG_HOST = process.env.QUEUECTL_TEST_PG ?? '127.0.0.1:5432'
export const ADMIN_URL = `postgres://postgres@${PG_HOST}/postgres`

export async function admin<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[], database = 'postgres'): Promise<T[]> {
  const client = new pg.Client({connectionString: `postgres://postgres@${PG_HOST}/${database}`})
  await client.connect()
  try {
    return (await client.query<T>(sql, values)).rows
  } finally {
    await client.end()
  }
}

export interface TestDb {
  name: string
  url: string
  drop(): Promise<void>
}

let n = 0
/** A new empty database named after the test, dropped (FORCE: our pools may linger) by drop(). */
export async function freshDatabase(hint: string): Promise<TestDb> {
  const name = `qc_${hint.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}_${n++}`.toLowerCase()
  await admin(`CREATE DATABASE ${name}`)
  return {
    name,
    url: `postgres://postgres@${PG_HOST}/${name}`,
    drop: async () => {
      // a client still closing (a library's pool ending) would get FORCE's terminate as an unhandled error: let it finish first
      for (let waited = 0; waited < 3000; waited += 100) {
        const [row] = await admin<{n: number}>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])
        if (!row?.n) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

/** The Node major version: pg-boss 11 and later need Node >= 22. */
export const nodeMajor = Number(process.versions.node.split('.')[0])

/** pg-boss 11 or 12 through its npm alias (a devDependency), by a name tsc does not resolve, as they need Node >= 22. */
export async function importPgboss(major: 11 | 12): Promise<new (options: Record<string, unknown>) => any> {
  const name = `pg-boss-${major}`
  const module = (await import(name)) as {default?: new (options: Record<string, unknown>) => any; PgBoss?: new (options: Record<string, unknown>) => any}
  // pg-boss 11 is CommonJS (the class is the export), 12 is ESM with a named PgBoss
  return (module.PgBoss ?? module.default)!
}

/** pg-boss creates its schema on start; stopped again at once (tests start their own when they need a worker). */
export async function installPgboss(url: string, schema?: string, major: 10 | 11 | 12 = 10): Promise<void> {
  const PgBoss = major === 10 ? (await import('pg-boss')).default : await importPgboss(major)
  const boss = new PgBoss({connectionString: url, schema, supervise: false, schedule: false})
  boss.on('error', () => {})
  await boss.start()
  await boss.stop({graceful: false, wait: true})
}

/** graphile-worker 0.17 (the devDependency) or 0.18 (its npm alias, needs Node >= 22.18), by a name tsc does not resolve. */
export type GraphilePackage = 'graphile-worker' | 'graphile-worker-18'
export async function importGraphile(pkg: GraphilePackage = 'graphile-worker'): Promise<typeof import('graphile-worker')> {
  return (await import(pkg)) as typeof import('graphile-worker')
}

/** Node >= 22.18, which graphile-worker 0.18 needs. */
export const nodeHasGraphile18 = nodeMajor > 22 || (nodeMajor === 22 && Number(process.versions.node.split('.')[1]) >= 18)

export async function installGraphile(url: string, schema?: string, pkg?: GraphilePackage): Promise<void> {
  const {runMigrations} = await importGraphile(pkg)
  await runMigrations({connectionString: url, schema, logger: await quietLogger(pkg)})
}

/** graphile-worker's Logger with every line dropped (its migrations and workers talk a lot). */
export async function quietLogger(pkg?: GraphilePackage) {
  const {Logger} = await importGraphile(pkg)
  return new Logger(() => () => {})
}

export async function openPostgres(url: string): Promise<Broker> {
  const broker = await createBroker(url, {timeoutMs: 5000})
  await broker.connect()
  return broker
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 50 ms until it returns a value, or fails after `ms` naming `what`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}
