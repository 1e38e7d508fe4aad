// bull's Queue, made on a connection of queuectl's own: the library is imported only when a Bull
// queue is touched. Bull defines its Lua scripts as commands on the connection by name
// (moveToActive, moveToFinished…), and BullMQ defines others under the same names, so Bull gets a
// dedicated duplicate connection, never the shared one. No blocking or subscriber connection is
// ever made: jobs are taken with moveToActive (non-blocking) and no events are listened to.
import type {RedisClient} from '../connection.js'
import type {FlavorContext} from '../flavor.js'
import type {BullJob} from './bull-job.js'

export interface BullSettings {
  lockDuration?: number
  stalledInterval?: number
  maxStalledCount?: number
  guardInterval?: number
}

/** The parts of bull's Queue that the flavor uses. */
export interface BullQueue {
  readonly token: string
  readonly defaultJobOptions?: Record<string, unknown>
  isReady(): Promise<unknown>
  readonly client: RedisClient & Record<string, unknown>
  toKey(type: string): string
  getJobCounts(): Promise<Record<string, number>>
  isPaused(): Promise<boolean>
  getRanges(types: string[], start: number, end: number, asc: boolean): Promise<string[]>
  getJob(id: string): Promise<BullJob | null>
  clean(grace: number, type: string, limit?: number): Promise<unknown[]>
  pause(): Promise<void>
  resume(): Promise<void>
  retryJobs(opts: {count?: number}): Promise<void>
  obliterate(opts: {force: boolean}): Promise<void>
  moveToActive(): Promise<BullJob | null>
  /** A job from a script's reply (moveToFinished's next job); a repeatable one schedules its next run first. */
  nextJobFromJobData(data: unknown, id: unknown): BullJob | null | Promise<BullJob>
  moveUnlockedJobsToWait(): Promise<void>
  updateDelayTimer(): Promise<void>
  close(): Promise<void>
}

/** bull's lib/scripts.js: the arguments its moveToFinished script takes, and its error codes. */
export interface BullScripts {
  moveToFinishedArgs(job: BullJob, val: unknown, propVal: string, shouldRemove: unknown, target: string, ignoreLock: boolean, notFetch: boolean): (string | number)[]
  finishedErrors(code: number, jobId: unknown, command: string, state: string): Error
  addJob(client: unknown, queue: BullQueue, jobData: unknown, opts: Record<string, unknown>): unknown
}

type BullJobClass = new (queue: BullQueue, name: string, data: unknown, opts: Record<string, unknown>) => {
  opts: Record<string, unknown> & {jobId?: unknown; lifo?: boolean; priority?: number; debounce?: unknown}
  toData(): unknown
}

type BullQueueClass = new (name: string, opts: Record<string, unknown>) => BullQueue

const connections = new WeakMap<FlavorContext, Promise<RedisClient>>()
const queues = new WeakMap<FlavorContext, Map<string, Promise<BullQueue>>>()

function connectionFor(ctx: FlavorContext): Promise<RedisClient> {
  let conn = connections.get(ctx)
  if (!conn) {
    // every bull Queue on it adds an error listener (removed when that queue closes)
    conn = ctx.duplicate().then((c) => c.setMaxListeners(0))
    connections.set(ctx, conn)
    conn.catch(() => connections.delete(ctx))
  }
  return conn
}

/** A new bull Queue on the flavor's Bull connection (`settings` for consumers: lock, stalled check). */
export async function makeBullQueue(ctx: FlavorContext, prefix: string, queue: string, settings?: BullSettings): Promise<BullQueue> {
  const [conn, mod] = await Promise.all([connectionFor(ctx), import('bull')])
  const Queue = ((mod as {default?: unknown}).default ?? mod) as unknown as BullQueueClass
  return new Queue(queue, {
    prefix,
    skipVersionCheck: true,
    settings,
    createClient: (type: string) => {
      if (type === 'client') return conn
      throw new Error(`queuectl drives bull without a ${type} connection`)
    },
  })
}

/** bull's script helpers (its lib/scripts.js), for a completion run through a script of queuectl's. */
export async function bullScripts(): Promise<BullScripts> {
  const mod = (await import('bull/lib/scripts.js' as string)) as {default?: BullScripts} & BullScripts
  return mod.default ?? mod
}

/** bull's Job class and scripts, loaded with the cached queue so a batch can be written at call. */
let bullLib: {Job: BullJobClass; scripts: BullScripts} | undefined
async function loadBullLib(): Promise<void> {
  if (bullLib) return
  const mod = (await import('bull/lib/job.js' as string)) as {default?: BullJobClass}
  bullLib = {Job: mod.default ?? (mod as unknown as BullJobClass), scripts: await bullScripts()}
}

/**
 * A batch of jobs added as bull's Queue#addBulk adds them (Job.createBulk: one MULTI of its addJob
 * script a job, the same job data), but with the MULTI written before this returns, where bull's
 * writes it a turn later: a later call's jobs are then stored after these on the connection, so
 * the caller may send its next batch without waiting for this one's reply. For a queue from
 * bullQueueFor (ready, bull's scripts loaded). The ids in order, null for a job the MULTI did not add.
 */
export function addBulkWrittenNow(queue: BullQueue, jobs: {name: string; data: unknown; opts: Record<string, unknown>}[]): Promise<(string | null)[]> {
  if (!bullLib) return Promise.reject(new Error('bull is not loaded: take the queue from bullQueueFor'))
  const {Job, scripts} = bullLib
  const made = jobs.map((job) => new Job(queue, job.name, job.data, {...queue.defaultJobOptions, ...job.opts, jobId: job.opts.jobId}))
  return writeBulk(queue, scripts, made)
}

function writeBulk(queue: BullQueue, scripts: BullScripts, made: InstanceType<BullJobClass>[]): Promise<(string | null)[]> {
  const multi = queue.client.multi()
  for (const job of made) {
    const opts = job.opts
    scripts.addJob(multi, queue, job.toData(), {lifo: opts.lifo, customJobId: opts.jobId, priority: opts.priority, debounce: opts.debounce})
  }
  // as bull's: an error inside the MULTI leaves that job without an id (null here)
  return multi.exec().then((replies) => (replies ?? []).map(([error, id]) => (error || id === null || id === undefined ? null : String(id))))
}

/** The cached bull Queue for reads and writes (no consumer settings). */
export function bullQueueFor(ctx: FlavorContext, prefix: string, queue: string): Promise<BullQueue> {
  let cache = queues.get(ctx)
  if (!cache) queues.set(ctx, (cache = new Map()))
  const key = `${prefix}\n${queue}`
  let made = cache.get(key)
  if (!made) {
    // ready: bull's scripts defined on the connection, so addBulkWrittenNow can write at call
    made = Promise.all([makeBullQueue(ctx, prefix, queue), loadBullLib()]).then(async ([q]) => (await q.isReady(), q))
    cache.set(key, made)
    made.catch(() => cache.delete(key))
  }
  return made
}

/** Closes the cached queues (they hold no connection of their own) and the Bull connection. */
export async function closeBullQueues(ctx: FlavorContext): Promise<void> {
  const cache = queues.get(ctx)
  queues.delete(ctx)
  if (cache) await Promise.allSettled([...cache.values()].map(async (q) => (await q).close()))
  const conn = connections.get(ctx)
  connections.delete(ctx)
  if (conn) (await conn.catch(() => undefined))?.disconnect()
}
