// `graphile`: graphile-worker 0.16+ jobs (its _private_ tables, schema graphile_worker or
// ?schema=). A queue is a task identifier; named queues are message groups. Writes go through the
// library: add_jobs, its getJobs/completeJobs/failJobs statements, reschedule_jobs.
// States: locked → inflight; attempts >= max_attempts → dead (permanently failed, last_error);
// failed before and will run again → retry; run_at ahead → delayed; else waiting.
import type {MessageState, QueueStats, RetryOptions, WorkerInfo} from '../../broker/contract.js'
import {selectWorkers} from '../../broker/kit/workers.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {graphileCapabilities} from './capabilities.js'
import type {Flavor, FlavorContext} from './flavor.js'
import {consumeGraphile} from './graphile-consume.js'
import {toMessage, toSpec, type GraphileRow} from './graphile-job.js'
import * as sql from './graphile-sql.js'

/** graphile-worker takes over a lock held this long (its worker crashed). */
const GRAPHILE_LOCK_TIMEOUT_MS = 4 * 3600_000

const taskIds = new WeakMap<FlavorContext, Map<string, number>>()

async function findTask(ctx: FlavorContext, name: string): Promise<number | undefined> {
  let cache = taskIds.get(ctx)
  if (!cache) taskIds.set(ctx, (cache = new Map()))
  const cached = cache.get(name)
  if (cached !== undefined) return cached
  const [row] = await ctx.db.query<{id: number}>(sql.taskIdSql(ctx.schema), [name])
  if (row) cache.set(name, row.id)
  return row?.id
}

async function taskOf(ctx: FlavorContext, name: string): Promise<number> {
  const id = await findTask(ctx, name)
  if (id !== undefined) return id
  const names = await graphileFlavor.list(ctx).catch(() => [] as string[])
  throw queueNotFound(`graphile:${name}`, ctx.displayUrl, names.map((n) => `graphile:${n}`))
}

async function ensureTask(ctx: FlavorContext, name: string): Promise<number> {
  if (!name || name.length > 128) throw new UsageError(`"${name}" is not a graphile-worker task identifier (1–128 characters)`)
  const id = await findTask(ctx, name)
  if (id !== undefined) return id
  await ctx.db.query(sql.ensureTaskSql(ctx.schema), [name])
  return taskOf(ctx, name)
}

function assertState(state: MessageState, allowed: readonly MessageState[], what: string): void {
  if (!allowed.includes(state)) throw new NotSupportedError(`graphile-worker ${what} no "${state}" jobs — states: ${allowed.join(', ')}${state === 'completed' ? ' (it deletes jobs once done)' : ''}`)
}

interface CountRow {
  waiting: number
  delayed: number
  retry: number
  inflight: number
  dead: number
  in_named_queues: number
  oldest: Date | null
  task_id: number
}

/**
 * Stats calls that arrive while a count is running wait for the next one, which counts all their
 * tasks in one scan: never older than the call, and `queue inspect` of every task costs a few
 * scans instead of one a task.
 */
class TaskCounts {
  private running?: Promise<unknown>
  private next?: {tasks: Set<number>; rows: Promise<Map<number, CountRow>>}

  constructor(private readonly ctx: FlavorContext) {}

  count(task: number): Promise<CountRow | undefined> {
    if (!this.next) {
      const tasks = new Set<number>()
      const rows = Promise.resolve(this.running)
        .catch(() => {})
        .then(async () => {
          if (this.next?.tasks === tasks) this.next = undefined
          const found = await this.ctx.db.query<CountRow>(sql.statsSql(this.ctx.schema), [[...tasks]])
          return new Map(found.map((r) => [Number(r.task_id), r]))
        })
      this.running = rows
      this.next = {tasks, rows}
    }
    this.next.tasks.add(task)
    return this.next.rows.then((rows) => rows.get(task))
  }
}

const counters = new WeakMap<FlavorContext, TaskCounts>()

async function stats(ctx: FlavorContext, name: string): Promise<QueueStats> {
  const task = await taskOf(ctx, name)
  let counter = counters.get(ctx)
  if (!counter) counters.set(ctx, (counter = new TaskCounts(ctx)))
  // a task with no jobs has no row in the grouped count
  const r = (await counter.count(task)) ?? {waiting: 0, delayed: 0, retry: 0, inflight: 0, dead: 0, in_named_queues: 0, oldest: null, task_id: task}
  return {
    name,
    kind: 'graphile',
    counts: {waiting: r.waiting, delayed: r.delayed, retry: r.retry, inflight: r.inflight, dead: r.dead},
    oldestAgeMs: r.oldest ? Math.max(0, Date.now() - r.oldest.getTime()) : undefined,
    details: {taskIdentifier: name, inNamedQueues: r.in_named_queues},
  }
}

async function retry(ctx: FlavorContext, name: string, options: RetryOptions): Promise<number> {
  const state = options.state ?? 'dead'
  if (state !== 'dead' && state !== 'retry') throw new NotSupportedError(`graphile-worker retries dead or retry jobs, not "${state}" ones`)
  const task = await taskOf(ctx, name)
  const ids = options.ids ? options.ids.filter((id) => /^\d+$/.test(id)) : null
  if (ids && ids.length === 0) return 0
  const found = await ctx.db.query<{id: string}>(sql.idsInStateSql(ctx.schema, state), [task, ids, options.limit ?? 2 ** 31 - 1])
  if (found.length === 0) return 0
  // dead jobs get their attempts back; retry jobs just run now
  const [row] = await ctx.db.query<{n: number}>(sql.rescheduleSql(ctx.schema), [found.map((r) => r.id), state === 'dead' ? 0 : null])
  return row!.n
}

export const graphileFlavor: Flavor = {
  kind: 'graphile',
  description: 'graphile-worker 0.16+ jobs by task identifier (schema graphile_worker, or ?schema=)',
  capabilities: graphileCapabilities,

  async list(ctx) {
    return (await ctx.db.query<{identifier: string}>(sql.listSql(ctx.schema))).map((r) => r.identifier)
  },

  async exists(ctx, name) {
    return (await findTask(ctx, name)) !== undefined
  },

  stats,

  async peek(ctx, name, options) {
    const state = options.state ?? 'waiting'
    assertState(state, graphileCapabilities.states, 'keeps')
    const task = await taskOf(ctx, name)
    const rows = await ctx.db.query<GraphileRow>(sql.peekSql(ctx.schema, state), [task, options.limit])
    const now = Date.now()
    return rows.map((row) => toMessage(name, row, now))
  },

  async enqueue(ctx, name, messages, options) {
    const now = Date.now()
    // every message checked before the task is made or anything written
    const specs = messages.map((m) => toSpec(name, m, now))
    await ensureTask(ctx, name)
    const statement = messages.some((m) => m.dedupId) ? sql.addJobsKeepFirstSql : sql.addJobsSql
    const values = [`[${specs.join(',')}]`]
    // a caller that keeps several batches in flight gets them run in its order (one pipelined
    // connection, each batch its own transaction): a later batch's now() is later, so FIFO holds
    const rows = options.onWritten
      ? await ctx.db.inOrder<{id: string}>(statement(ctx.schema), values, options.onWritten)
      : await ctx.db.query<{id: string}>(statement(ctx.schema), values)
    return rows.map((r) => r.id)
  },

  async consume(ctx, name, handler, options) {
    return consumeGraphile(ctx, name, await ensureTask(ctx, name), handler, options)
  },

  async purge(ctx, name, state) {
    assertState(state, graphileCapabilities.purgeStates, 'can purge')
    const task = await taskOf(ctx, name)
    const [row] = await ctx.db.query<{n: number}>(sql.purgeSql(ctx.schema, state), [task])
    return row!.n
  },

  async remove(ctx, name, ids, state) {
    assertState(state, graphileCapabilities.remove!.states, 'can delete single jobs from')
    const task = await taskOf(ctx, name)
    // graphile-worker ids are bigints: anything else names no job (and would make the cast fail)
    const numeric = ids.filter((id) => /^\d{1,18}$/.test(id))
    if (numeric.length === 0) return 0
    const [row] = await ctx.db.query<{n: number}>(sql.removeSql(ctx.schema, state), [task, numeric])
    return row!.n
  },

  async workers(ctx, options) {
    const rows = await ctx.db.query<{locked_by: string; id: string; identifier: string; first_lock: Date; last_lock: Date; locked_at: Date}>(sql.lockedBySql(ctx.schema))
    const byWorker = new Map<string, WorkerInfo>()
    for (const r of rows) {
      const w = byWorker.get(r.locked_by) ?? {kind: 'graphile', name: r.locked_by, queues: [], busy: 0, current: [], startedAt: r.first_lock.getTime(), lastSeenAt: r.last_lock.getTime()}
      byWorker.set(r.locked_by, w)
      const queue = `graphile:${r.identifier}`
      if (!w.queues.includes(queue)) w.queues.push(queue)
      w.busy = (w.busy ?? 0) + 1
      w.current!.push({id: r.id, name: r.identifier, queue, startedAt: r.locked_at.getTime()})
    }
    const notes = ['graphile-worker records a worker only while it holds a job (locked_by): idle workers do not show']
    return {workers: selectWorkers([...byWorker.values()], options, GRAPHILE_LOCK_TIMEOUT_MS), notes}
  },

  async create(ctx, name, options = {}) {
    const given = Object.keys(options)
    if (given.length) throw new UsageError(`graphile-worker queues take no settings (${given.map((o) => `--${o}`).join(', ')} are pg-boss's) — drop them`)
    await ensureTask(ctx, name)
  },

  async delete(ctx, name) {
    const task = await taskOf(ctx, name)
    await ctx.db.query(sql.deleteJobsSql(ctx.schema), [task])
    await ctx.db.query(sql.deleteTaskSql(ctx.schema), [task])
    taskIds.get(ctx)?.delete(name)
  },

  retry,
}
