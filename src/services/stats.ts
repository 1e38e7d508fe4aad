// Stats of many queues at once, the one read every view starts from: `queue inspect`, `queue top`
// (one snapshot and the live poller) and `queue metrics` all ask here.
import type {Broker, QueueList, QueueStats} from '../broker/contract.js'
import {NotFoundError, NotSupportedError} from '../kernel/errors.js'
import {attachWorkers} from './workers.js'

/** Stats calls in flight at once by default: enough to hide round trips, few enough for a management API. */
export const STATS_CONCURRENCY = 8
/** Listing and the stats of every listed queue end within this (plus the calls in flight): 10,000 queues must not take 17 s. */
export const STATS_BUDGET_MS = 5000
/** The stats of listed queues get at least this long, however long the listing took. */
const STATS_MIN_MS = 1000
/** Listed queues whose stats are read at most: the first this many by name (a table of 10,000 rows takes a minute to lay out). */
export const MAX_LISTED_QUEUES = 1000

export interface QueueStatsOptions {
  /** Queues to read by name (each must exist); where absent, every queue the broker lists. */
  queues?: readonly string[]
  /** Stats calls in flight at once. */
  concurrency?: number
  signal?: AbortSignal
  /** What to suggest when the broker cannot list its queues; default: name them with --queue (top, metrics). */
  nameThem?: string
  /** Also ask who is working (services/workers.ts): each stats gets its `workers`, and `consumers` where the broker had none. */
  workers?: boolean
  /** Listed queues only: stop reading stats after this long (from the start of the listing) and say how many were not shown. */
  budgetMs?: number
}

export interface QueueStatsResult {
  stats: QueueStats[]
  /** Why some queues may be missing from the listing (e.g. a SCAN budget ran out). */
  incomplete?: string
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal, deadline = Infinity): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const workers = Array.from({length: Math.max(1, Math.min(limit, items.length))}, async () => {
    while (next < items.length) {
      signal?.throwIfAborted()
      if (Date.now() >= deadline) return
      const i = next++
      out[i] = await fn(items[i]!)
    }
  })
  await Promise.all(workers)
  return out
}

/**
 * Stats of the queues named, or of every queue listed, a bounded number at a time. A listed queue
 * that is gone by the time its stats are read (NotFoundError) is left out; a named one is an error.
 */
export async function queueStats(broker: Broker, options: QueueStatsOptions = {}): Promise<QueueStatsResult> {
  const named = options.queues !== undefined && options.queues.length > 0
  const started = Date.now()
  let names: readonly string[]
  let incomplete: string | undefined
  if (named) {
    names = options.queues!
  } else {
    const listed = await listQueues(broker, options.nameThem)
    names = listed.map((q) => q.name)
    incomplete = listed.incomplete
    if (names.length > MAX_LISTED_QUEUES) {
      const more = names.length - MAX_LISTED_QUEUES
      names = names.slice(0, MAX_LISTED_QUEUES)
      incomplete = [incomplete, `${more} more queues not shown (the first ${MAX_LISTED_QUEUES} by name are) — name the queues you want`].filter(Boolean).join('; ')
    }
  }
  const stats = await mapLimit(
    names,
    options.concurrency ?? STATS_CONCURRENCY,
    async (name) => {
      try {
        return await broker.stats(name)
      } catch (error) {
        // listed a moment ago, deleted since: not a failure of the broker
        if (error instanceof NotFoundError && !named) return undefined
        throw error
      }
    },
    options.signal,
    named ? Infinity : Math.max(started + (options.budgetMs ?? STATS_BUDGET_MS), Date.now() + STATS_MIN_MS),
  )
  const unread = stats.length - Object.keys(stats).length
  if (unread > 0) {
    const note = `${unread} more queue${unread === 1 ? '' : 's'} not shown (their stats were not read within ${(options.budgetMs ?? STATS_BUDGET_MS) / 1000} s) — name the queues you want`
    incomplete = [incomplete, note].filter(Boolean).join('; ')
  }
  const found = stats.filter((s): s is QueueStats => s !== undefined)
  if (options.workers) await attachWorkers(broker, found)
  return {stats: found, incomplete}
}

async function listQueues(broker: Broker, nameThem = 'name them with --queue'): Promise<QueueList> {
  const queues: QueueList = await broker.listQueues()
  // a broker without a listing API usually refuses above with its own reason (AMQP: what is wrong with the management API)
  if (!(await broker.capabilitiesOf()).listQueues) {
    throw new NotSupportedError(`${broker.displayUrl} cannot list its queues (${broker.transport} without a listing API) — ${nameThem}`)
  }
  return queues
}
