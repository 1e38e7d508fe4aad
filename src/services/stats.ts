// Stats of many queues at once, the one read every view starts from: `queue inspect`, `queue top`
// (one snapshot and the live poller) and `queue metrics` all ask here.
import type {Broker, QueueList, QueueStats} from '../broker/contract.js'
import {NotFoundError, NotSupportedError} from '../kernel/errors.js'

/** Stats calls in flight at once by default: enough to hide round trips, few enough for a management API. */
export const STATS_CONCURRENCY = 8

export interface QueueStatsOptions {
  /** Queues to read by name (each must exist); where absent, every queue the broker lists. */
  queues?: readonly string[]
  /** Stats calls in flight at once. */
  concurrency?: number
  signal?: AbortSignal
  /** What to suggest when the broker cannot list its queues; default: name them with --queue (top, metrics). */
  nameThem?: string
}

export interface QueueStatsResult {
  stats: QueueStats[]
  /** Why some queues may be missing from the listing (e.g. a SCAN budget ran out). */
  incomplete?: string
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const workers = Array.from({length: Math.max(1, Math.min(limit, items.length))}, async () => {
    while (next < items.length) {
      signal?.throwIfAborted()
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
  let names: readonly string[]
  let incomplete: string | undefined
  if (named) {
    names = options.queues!
  } else {
    const listed = await listQueues(broker, options.nameThem)
    names = listed.map((q) => q.name)
    incomplete = listed.incomplete
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
  )
  return {stats: stats.filter((s): s is QueueStats => s !== undefined), incomplete}
}

async function listQueues(broker: Broker, nameThem = 'name them with --queue'): Promise<QueueList> {
  const queues: QueueList = await broker.listQueues()
  // a broker without a listing API usually refuses above with its own reason (AMQP: what is wrong with the management API)
  if (!(await broker.capabilitiesOf()).listQueues) {
    throw new NotSupportedError(`${broker.displayUrl} cannot list its queues (${broker.transport} without a listing API) — ${nameThem}`)
  }
  return queues
}
