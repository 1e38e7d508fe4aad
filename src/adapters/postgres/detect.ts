// Which job libraries have tables in this database, in which schema and at which schema version.
// One round trip for the catalog, one per library for its version; plain SELECTs only.
import {ConnectionError, NotFoundError, NotSupportedError} from '../../kernel/errors.js'
import type {Db} from './connection.js'
import {GRAPHILE_MIGRATIONS} from './graphile-sql.js'
import {PGBOSS_VERSIONS} from './pgboss-sql.js'

/** A library's tables we can use, or why not (an unknown version, no right to read them). */
export type Found = {schema: string; version: number} | {refused: Error}

export interface Detected {
  pgboss?: Found
  graphile?: Found
  schemasSeen: string[]
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

const CATALOG = `
  SELECT n.nspname AS schema, c.relname AS table
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND ((n.nspname = $1 AND c.relname IN ('version', 'job', 'queue'))
      OR (n.nspname = $2 AND c.relname IN ('_private_jobs', 'jobs', 'migrations')))`

const SCHEMAS = `SELECT nspname AS name FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1`

export async function detect(db: Db, schemas: {pgboss: string; graphile: string}, where: string): Promise<Detected> {
  const [tables, seen] = await Promise.all([
    db.query<{schema: string; table: string}>(CATALOG, [schemas.pgboss, schemas.graphile]),
    db.query<{name: string}>(SCHEMAS),
  ])
  const has = (schema: string, table: string) => tables.some((t) => t.schema === schema && t.table === table)
  const detected: Detected = {schemasSeen: seen.map((s) => s.name)}
  if (has(schemas.pgboss, 'version') && has(schemas.pgboss, 'job')) {
    detected.pgboss = await readable(() => pgbossVersion(db, schemas.pgboss, has(schemas.pgboss, 'queue'), where), 'pg-boss', schemas.pgboss, where)
  }
  if (has(schemas.graphile, '_private_jobs') && has(schemas.graphile, 'migrations')) {
    detected.graphile = await readable(() => graphileVersion(db, schemas.graphile, where), 'graphile-worker', schemas.graphile, where)
  } else if (has(schemas.graphile, 'jobs')) {
    detected.graphile = {refused: new NotSupportedError(`graphile-worker in schema "${schemas.graphile}" on ${where} predates 0.16 (no _private_jobs table) — upgrade it (graphile-worker migrates on start); queuectl reads 0.16 and later`)}
  }
  return detected
}

/** A role that may not read one library's schema can still use the other's. */
async function readable(read: () => Promise<Found>, library: string, schema: string, where: string): Promise<Found> {
  try {
    return await read()
  } catch (error) {
    if ((error as {code?: string}).code !== '42501') throw error
    return {refused: new ConnectionError(`${(error as Error).message} on ${where}: this role may not read ${library}'s schema "${schema}" — GRANT USAGE ON SCHEMA ${schema} and SELECT on its tables`)}
  }
}

async function pgbossVersion(db: Db, schema: string, hasQueueTable: boolean, where: string): Promise<Found> {
  const [row] = await db.query<{version: number}>(`SELECT version::int AS version FROM ${quoteIdent(schema)}.version`)
  const version = row?.version
  const {min, max} = PGBOSS_VERSIONS
  if (version === undefined || version < min || version > max || !hasQueueTable) {
    const newer = version !== undefined && version > max
    return {refused: new NotSupportedError(`pg-boss schema version ${version ?? 'none'} in "${schema}" on ${where} is not one queuectl knows — it reads versions ${min}–${max} (pg-boss 10.x–12.38); ${newer ? 'a pg-boss newer than 12.38 changed its tables: upgrade queuectl' : 'upgrade pg-boss to 10 (it migrates on start)'}`)}
  }
  return {schema, version}
}

async function graphileVersion(db: Db, schema: string, where: string): Promise<Found> {
  const [row] = await db.query<{version: number | null}>(`SELECT max(id)::int AS version FROM ${quoteIdent(schema)}.migrations`)
  const version = row?.version ?? 0
  const {min, max} = GRAPHILE_MIGRATIONS
  if (version < min || version > max) {
    return {refused: new NotSupportedError(`graphile-worker migration ${version} in "${schema}" on ${where} is not one queuectl knows — it reads migrations ${min}–${max} (graphile-worker 0.16–0.18)${version > max ? ': upgrade queuectl' : ''}`)}
  }
  const [hidden] = await db.query<{role: string; tables: string | null}>(HIDDEN_BY_RLS, [schema])
  if (hidden?.tables) {
    const role = quoteIdent(hidden.role)
    return {refused: new ConnectionError(`graphile-worker's tables in "${schema}" on ${where} have row-level security and role ${role} neither owns them nor bypasses it, so it would see no jobs — ALTER ROLE ${role} BYPASSRLS, or CREATE POLICY … FOR SELECT TO ${role} USING (true) on ${hidden.tables}`)}
  }
  return {schema, version}
}

// graphile-worker enables row-level security on its tables with no policy: only their owner (or a
// superuser, or a BYPASSRLS role) sees a row, and a SELECT-only role would see empty queues
const HIDDEN_BY_RLS = `
  SELECT current_user AS role, string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY c.relname) AS tables
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname IN ('_private_tasks', '_private_jobs', '_private_job_queues') AND c.relrowsecurity
    AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
    AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = current_user AND (r.rolsuper OR r.rolbypassrls))
    AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)`

/** Refuses a database with no usable job tables, naming what is there instead. */
export function assertUsable(detected: Detected, database: string, where: string): void {
  const found = [detected.pgboss, detected.graphile].filter((f): f is Found => f !== undefined)
  if (found.length === 0) {
    throw new NotFoundError(`no pg-boss or graphile-worker tables found in database "${database}" on ${where}; schemas seen: ${detected.schemasSeen.join(', ') || '(none)'} — start pg-boss or graphile-worker once against it to create them, or give ?schema= for a non-default schema`)
  }
  const usable = found.filter((f) => 'schema' in f)
  if (usable.length === 0) throw (found[0] as {refused: Error}).refused
}
