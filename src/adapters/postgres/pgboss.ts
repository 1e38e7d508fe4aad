// `pgboss`: pg-boss 10, 11 and 12 queues (schema versions 21–46), driven with the statements pg-boss itself
// runs (./pgboss-sql.ts): create_queue/delete_queue, insertJobs, fetchNextJob (SKIP LOCKED),
// completeJobs, failJobs (retries, backoff, dead-letter queues), retryJobs/resumeJobs.
// States: created and retry → waiting (delayed while start_after is ahead: its workers fetch both),
// active → inflight, completed → completed, failed and cancelled → dead; how many of the queued
// jobs are pg-boss retries, and the archive, are counted under details.
import type {Capabilities, MessageState, PeekMatch, QueueOptions, QueueStats, RetryOptions} from '../../broker/contract.js'
import {NotFoundError, NotSupportedError, UsageError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {pgbossCapabilities, pgbossWithDeadLetterQueue} from './capabilities.js'
import type {Flavor, FlavorContext} from './flavor.js'
import {consumePgboss} from './pgboss-consume.js'
import {isUuid, toMessage, toRecord, type PgbossRow} from './pgboss-job.js'
import * as sql from './pgboss-sql.js'

const known = new WeakMap<FlavorContext, Set<string>>()

function knownOf(ctx: FlavorContext): Set<string> {
  let set = known.get(ctx)
  if (!set) known.set(ctx, (set = new Set()))
  return set
}

interface QueueRow {
  name: string
  policy: string | null
  retry_limit: number | null
  retry_delay: number | null
  retry_backoff: boolean | null
  expire_seconds: number | null
  retention_minutes: number | null
  dead_letter: string | null
}

async function queueRow(ctx: FlavorContext, name: string): Promise<QueueRow> {
  const [row] = await ctx.db.query<QueueRow>(sql.queueSql(ctx.schema, ctx.version), [name])
  if (!row) {
    const names = await pgbossFlavor.list(ctx).catch(() => [] as string[])
    throw queueNotFound(`pgboss:${name}`, ctx.displayUrl, names.map((n) => `pgboss:${n}`))
  }
  return row
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A pushed-down --where (PeekMatch) as SQL on the job row: body.… equalities on the jsonb data
 * (jsonb equality: 42 matches 42.0, never "42"), id on the uuid; the rest is left to the caller.
 * Undefined when a condition can match no row.
 */
function pushdownSql(match: PeekMatch | undefined): {where: string; values: unknown[]} | undefined {
  const parts: string[] = []
  const values: unknown[] = []
  for (const c of match?.all ?? []) {
    if (c.path[0] === 'body' && c.path.length >= 2) {
      const i = values.length + 3 // $1 the queue, $2 the limit
      values.push(c.path.slice(1), JSON.stringify(c.equals))
      parts.push(`data #> $${i}::text[] = $${i + 1}::jsonb`)
    } else if (c.path.length === 1 && c.path[0] === 'id') {
      if (typeof c.equals !== 'string' || !UUID.test(c.equals)) return undefined
      parts.push(`id = $${values.length + 3}::uuid`)
      values.push(c.equals)
    }
  }
  return {where: parts.map((p) => ` AND ${p}`).join(''), values}
}

function assertState(state: MessageState, allowed: readonly MessageState[], what: string): void {
  if (!allowed.includes(state)) throw new NotSupportedError(`pg-boss ${what} no "${state}" jobs — states: ${allowed.join(', ')}`)
}

async function stats(ctx: FlavorContext, name: string): Promise<QueueStats> {
  const queue = await queueRow(ctx, name)
  const [[row], archived] = await Promise.all([
    ctx.db.query<Record<string, number> & {oldest: Date | null}>(sql.statsSql(ctx.schema, ctx.version), [name]),
    // pg-boss 11 has no archive: it deletes jobs after deletion_seconds
    sql.isV11(ctx.version) ? [] : ctx.db.query<{state: string; n: number}>(sql.archiveStatsSql(ctx.schema), [name]),
  ])
  const r = row!
  const details: Record<string, unknown> = {policy: queue.policy ?? 'standard', retrying: r.retrying, failed: r.failed, cancelled: r.cancelled}
  if (archived.length > 0) details.archived = Object.fromEntries(archived.map((a) => [a.state, a.n]))
  if (queue.dead_letter) details.deadLetterQueue = `pgboss:${queue.dead_letter}`
  if (queue.retry_limit !== null) details.retryLimit = queue.retry_limit
  return {
    name,
    kind: 'pgboss',
    counts: {waiting: r.waiting!, delayed: r.delayed!, inflight: r.inflight!, completed: r.completed!, dead: r.failed! + r.cancelled!},
    oldestAgeMs: r.oldest ? Math.max(0, Date.now() - r.oldest.getTime()) : undefined,
    details,
  }
}

/** Creations in flight, per broker: concurrent enqueues to one new queue share one create_queue. */
const creating = new WeakMap<FlavorContext, Map<string, Promise<void>>>()

async function create(ctx: FlavorContext, name: string, options: QueueOptions = {}): Promise<void> {
  if (!/^[\w.\-/]+$/.test(name)) throw new UsageError(`"${name}" is not a pg-boss queue name — use letters, digits, _, -, . or /`)
  const settings = pgbossSettings(options)
  // pg-boss keeps the dead-letter queue as a queue row the new one refers to: made first
  if (settings.deadLetter !== undefined && settings.deadLetter !== name) await create(ctx, String(settings.deadLetter))
  let inFlight = creating.get(ctx)
  if (!inFlight) creating.set(ctx, (inFlight = new Map()))
  let done = inFlight.get(name)
  if (!done) {
    done = createQueueRow(ctx, name, {policy: 'standard', ...settings}).finally(() => inFlight.delete(name))
    inFlight.set(name, done)
  }
  await done
  knownOf(ctx).add(name)
}

/** `queue create`'s settings in pg-boss's own create_queue option names (retryDelay in whole seconds). */
function pgbossSettings(options: QueueOptions): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  if (options['policy'] !== undefined) out.policy = options['policy']
  if (options['retry-limit'] !== undefined) out.retryLimit = options['retry-limit']
  if (options['retry-delay'] !== undefined) {
    const s = Number(options['retry-delay']) / 1000
    if (!Number.isInteger(s)) throw new UsageError('--retry-delay is whole seconds on pg-boss — e.g. --retry-delay 30s')
    out.retryDelay = s
  }
  if (options['retry-backoff'] !== undefined) out.retryBackoff = options['retry-backoff']
  if (options['dead-letter-queue'] !== undefined) out.deadLetter = options['dead-letter-queue']
  return out
}

// two create_queue calls for one new name (this process and another) can deadlock each other
// (40P01): PostgreSQL aborts one, and it is retried, then finds the queue made
async function createQueueRow(ctx: FlavorContext, name: string, settings: Record<string, unknown>, tries = 3): Promise<void> {
  try {
    await ctx.db.query(sql.createQueueSql(ctx.schema), [name, JSON.stringify(settings)])
  } catch (error) {
    if ((error as {code?: string}).code !== '40P01' || tries <= 1) throw error
    await createQueueRow(ctx, name, settings, tries - 1)
  }
}

async function retry(ctx: FlavorContext, name: string, options: RetryOptions): Promise<number> {
  const state = options.state ?? 'dead'
  if (state !== 'dead' && state !== 'delayed') throw new NotSupportedError(`pg-boss retries failed (dead) jobs and runs delayed ones now, not "${state}" ones — they run again by themselves`)
  await queueRow(ctx, name)
  const ids = options.ids ? options.ids.filter(isUuid) : null
  if (ids && ids.length === 0) return 0
  const limit = options.limit ?? 2 ** 31 - 1
  if (state === 'delayed') return (await ctx.db.query<{n: number}>(sql.promoteDelayedSql(ctx.schema), [name, ids, limit]))[0]!.n
  const [failed] = await ctx.db.query<{n: number}>(sql.retryFailedSql(ctx.schema), [name, ids, limit])
  const left = limit - failed!.n
  if (left <= 0) return failed!.n
  const [cancelled] = await ctx.db.query<{n: number}>(sql.resumeCancelledSql(ctx.schema), [name, ids, left])
  return failed!.n + cancelled!.n
}

export const pgbossFlavor: Flavor = {
  kind: 'pgboss',
  description: 'pg-boss 10–12 queues (schema pgboss, or ?schema=)',
  capabilities: pgbossCapabilities,

  async list(ctx) {
    return (await ctx.db.query<{name: string}>(sql.listSql(ctx.schema))).map((r) => r.name)
  },

  async exists(ctx, name) {
    if (knownOf(ctx).has(name)) return true
    const rows = await ctx.db.query(sql.queueSql(ctx.schema, ctx.version), [name])
    if (rows.length > 0) knownOf(ctx).add(name)
    return rows.length > 0
  },

  async capabilitiesOf(ctx, name): Promise<Capabilities> {
    const [row] = await ctx.db.query<QueueRow>(sql.queueSql(ctx.schema, ctx.version), [name])
    return row?.dead_letter ? pgbossWithDeadLetterQueue(`pgboss:${row.dead_letter}`) : pgbossCapabilities
  },

  stats,

  async peek(ctx, name, options) {
    const state = options.state ?? 'waiting'
    assertState(state, pgbossCapabilities.states, 'keeps')
    await queueRow(ctx, name)
    const pushed = pushdownSql(options.match)
    if (!pushed) return [] // it names a job no row can be (an id that is no uuid)
    const rows = await ctx.db.query<PgbossRow>(sql.peekSql(ctx.schema, ctx.version, state, pushed.where), [name, options.limit, ...pushed.values])
    const now = Date.now()
    return rows.map((row) => toMessage(name, row, now))
  },

  async enqueue(ctx, name, messages, options) {
    for (const m of messages) {
      if (m.groupId) throw new NotSupportedError('pg-boss has no message groups — drop the group id')
    }
    // every message checked before the queue is made or anything written
    const records = messages.map((m) => toRecord(name, m))
    if (!(await pgbossFlavor.exists(ctx, name))) await create(ctx, name)
    // one insert orders its rows as the join does, so a dedup id twice in a batch keeps the first here
    const seen = new Set<string>()
    const firsts = records.filter((r) => !r.dedup || (!seen.has(r.id) && seen.add(r.id)))
    const batch = `[${firsts.map((r) => r.json).join(',')}]`
    const values = sql.isV11(ctx.version) ? [batch] : [batch, null, null, null, null, null]
    // several batches in flight run in the caller's order (one pipelined connection, graphile.ts enqueue)
    const inserted = options.onWritten
      ? await ctx.db.inOrder<{id: string}>(sql.insertJobsSql(ctx.schema, ctx.version), values, options.onWritten)
      : await ctx.db.query<{id: string}>(sql.insertJobsSql(ctx.schema, ctx.version), values)
    if (inserted.length < firsts.length && !firsts.some((r) => r.dedup)) {
      throw new NotFoundError(`pg-boss queue "${name}" vanished while enqueueing on ${ctx.displayUrl}`)
    }
    // a dedup id already there: pg-boss skipped the insert (ON CONFLICT DO NOTHING); the id is the stored job's
    return records.map((r) => r.id)
  },

  consume: consumePgboss,

  async purge(ctx, name, state) {
    assertState(state, pgbossCapabilities.purgeStates, 'can purge')
    await queueRow(ctx, name)
    const [row] = await ctx.db.query<{n: number}>(sql.purgeSql(ctx.schema, ctx.version, state), [name])
    return row!.n
  },

  async remove(ctx, name, ids, state) {
    assertState(state, pgbossCapabilities.remove!.states, 'can delete single jobs from')
    await queueRow(ctx, name)
    // pg-boss ids are uuids: anything else names no job (and would make the cast fail)
    const uuids = ids.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    if (uuids.length === 0) return 0
    const [row] = await ctx.db.query<{n: number}>(sql.removeSql(ctx.schema, ctx.version, state), [name, uuids])
    return row!.n
  },

  create,

  async delete(ctx, name) {
    await queueRow(ctx, name)
    await ctx.db.query(sql.deleteQueueSql(ctx.schema), [name])
    knownOf(ctx).delete(name)
  },

  retry,
}
