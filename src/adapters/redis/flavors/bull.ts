// `bull`: Bull (v3/v4) queues, BullMQ's predecessor, through the bull library (imported only when
// a Bull queue is touched; see ./bull-queue.ts). Keys are <prefix>:<queue>:… (prefix `bull`, or
// ?prefix=): wait, active, paused (lists), delayed, priority, completed, failed (zsets), id (the
// job counter), meta-paused, stalled, stalled-check, and one hash per job. BullMQ uses the same
// prefix and several of the same names, but always keeps a `meta` hash with its version, which
// Bull never writes (a paused Bull queue has a `meta` holding only `paused`): that tells them apart.
// A queue under another prefix is addressed as bull:<prefix>:<queue>.
import type {Message, MessageState, QueueStats, RetryOptions} from '../../../broker/contract.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {BULL_DEFAULT_NAME, fromBullJob, toBullJob, undecodableBullJob} from './bull-job.js'
import {consumeBull} from './bull-consume.js'
import {matchingIds, scriptConditions} from './job-match.js'
import {addBulkWrittenNow, bullQueueFor, closeBullQueues, type BullQueue} from './bull-queue.js'
import {bullCapabilities, bullFinder, bullKindAt as kindAt, bullSplit as split} from './detect.js'
import {enqueueInChunks, jobDataSize} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {bullCapabilities} from './detect.js'

// contract state → bull's list or zset (and whether bull lists it oldest first)
const TYPES: Partial<Record<MessageState, {type: string; asc: boolean}>> = {
  waiting: {type: 'wait', asc: true},
  inflight: {type: 'active', asc: true},
  delayed: {type: 'delayed', asc: true},
  dead: {type: 'failed', asc: false},
  completed: {type: 'completed', asc: false},
  paused: {type: 'paused', asc: true},
}

const LIST_TYPES = new Set(['wait', 'active', 'paused'])

/**
 * The queues (prefix:queue) an enqueue on this connection has already found not to be BullMQ's:
 * the check is one round trip, once per queue rather than before every batch (`queue bench`
 * sends a batch at a time, and waited for it each time). Forgotten when we delete the queue.
 */
const checkedQueues = new WeakMap<FlavorContext, Set<string>>()
function checkedOf(ctx: FlavorContext): Set<string> {
  let set = checkedQueues.get(ctx)
  if (!set) checkedQueues.set(ctx, (set = new Set()))
  return set
}

async function existing(ctx: FlavorContext, name: string): Promise<BullQueue> {
  const {prefix, queue} = split(ctx, name)
  const kind = await kindAt(ctx, `${prefix}:${queue}`)
  if (kind === 'bull') return bullQueueFor(ctx, prefix, queue)
  if (kind === 'bullmq') throw new NotFoundError(`${prefix}:${queue} on ${ctx.displayUrl} is a BullMQ queue, not a Bull one — name it bullmq:${name}`)
  if (typeof kind === 'object') throw new NotFoundError(`key "${prefix}:${queue}:id" on ${ctx.displayUrl} is a ${kind.wrongType}, not a Bull queue — check the name`)
  throw new NotFoundError(`Bull queue "${name}" not found on ${ctx.displayUrl} (no ${prefix}:${queue}:id) — run \`queue inspect\` to list the queues, or ?prefix= for another prefix`)
}

function typeOf(state: MessageState) {
  const type = TYPES[state]
  if (!type) throw new NotSupportedError(`Bull keeps no "${state}" jobs — states: ${bullCapabilities.states.join(', ')}`)
  return type
}

async function peekIds(ctx: FlavorContext, name: string, queue: BullQueue, ids: string[], state: MessageState): Promise<Message[]> {
  const read = async (id: string): Promise<Message | undefined> => {
    try {
      const job = await queue.getJob(id)
      return job ? fromBullJob(name, job, state) : undefined // removed meanwhile
    } catch (error) {
      // bull cannot parse this hash (corrupt data/opts): show it raw instead of failing the listing
      const hash = await ctx.client.hgetall(queue.toKey(id))
      return undecodableBullJob(name, id, state, hash, `bull cannot read job ${id}: ${(error as Error).message}`)
    }
  }
  return (await Promise.all(ids.map(read))).filter((m): m is Message => m !== undefined)
}

export const bullFlavor: Flavor = {
  ...bullFinder,

  async create(ctx, name) {
    const {prefix, queue} = split(ctx, name)
    if ((await kindAt(ctx, `${prefix}:${queue}`)) === 'bullmq') await existing(ctx, name)
    // bull has no "create": its job counter at 0 (bull INCRs it to 1 for the first job) marks the queue
    await ctx.client.setnx(`${prefix}:${queue}:id`, '0')
  },

  async delete(ctx, name) {
    const {prefix, queue} = split(ctx, name)
    checkedOf(ctx).delete(`${prefix}:${queue}`)
    await (await existing(ctx, name)).obliterate({force: true})
  },

  async stats(ctx, name): Promise<QueueStats> {
    const queue = await existing(ctx, name)
    // plain reads, not getJobCounts/isPaused (MULTI/EXEC, which a `+@read` ACL user may not run)
    const k = (type: string) => queue.toKey(type)
    const [waiting, active, delayed, failed, completed, pausedJobs, pausedOld, pausedNew, prioritized, oldestId] = await Promise.all([
      ctx.client.llen(k('wait')),
      ctx.client.llen(k('active')),
      ctx.client.zcard(k('delayed')),
      ctx.client.zcard(k('failed')),
      ctx.client.zcard(k('completed')),
      ctx.client.llen(k('paused')),
      ctx.client.exists(k('meta-paused')),
      ctx.client.hexists(k('meta'), 'paused'),
      ctx.client.zcard(queue.toKey('priority')),
      ctx.client.lindex(queue.toKey('wait'), -1),
    ])
    const stats: QueueStats = {
      name,
      kind: 'bull',
      counts: {waiting, inflight: active, delayed, dead: failed, completed, paused: pausedJobs},
      paused: pausedOld === 1 || pausedNew === 1,
      details: {prefix: split(ctx, name).prefix, prioritized},
    }
    const timestamp = oldestId ? Number(await ctx.client.hget(queue.toKey(oldestId), 'timestamp')) : NaN
    if (Number.isFinite(timestamp) && timestamp > 0) stats.oldestAgeMs = Math.max(0, Date.now() - timestamp)
    return stats
  },

  async peek(ctx, name, options): Promise<Message[]> {
    const queue = await existing(ctx, name)
    const state = options.state ?? 'waiting'
    const {type, asc} = typeOf(state)
    const limit = Math.max(0, options.limit)
    if (limit === 0) return []
    // getRanges' own reads without its MULTI: lists hold ids newest-first, zsets by score
    const key = queue.toKey(type)
    const order = LIST_TYPES.has(type) ? 'list' : asc ? 'asc' : 'desc'
    const conds = scriptConditions(options.match)
    const pushed = conds && (await matchingIds(ctx, queue.toKey(''), [{key, order}], conds, limit, {defaultName: BULL_DEFAULT_NAME}))
    const ids =
      pushed ??
      (order === 'list'
        ? (await ctx.client.lrange(key, -limit, -1)).reverse()
        : order === 'asc'
          ? await ctx.client.zrange(key, '0', String(limit - 1))
          : await ctx.client.zrevrange(key, '0', String(limit - 1)))
    return peekIds(ctx, name, queue, ids.slice(0, limit), state)
  },

  async enqueue(ctx, name, messages, options) {
    const {prefix, queue: q} = split(ctx, name)
    const base = `${prefix}:${q}`
    const checked = checkedOf(ctx)
    if (!checked.has(base)) {
      if ((await kindAt(ctx, base)) === 'bullmq') await existing(ctx, name) // refuses: BullMQ's keys
      checked.add(base)
    }
    const queue = await bullQueueFor(ctx, prefix, q)
    const byChunk = await enqueueInChunks(
      ctx,
      messages.map(toBullJob),
      options,
      // bull's addBulk, its MULTI written at the call: the caller's next batch may follow at once
      async (chunk) => {
        const added = await addBulkWrittenNow(queue, chunk)
        if (added.some((id) => id === null)) throw new Error(`bull did not add every job of a batch to ${name}`)
        return added as string[]
      },
      jobDataSize,
      4,
      true,
    )
    return byChunk.flat()
  },

  async consume(ctx, name, handler, options) {
    const {prefix, queue} = split(ctx, name)
    if ((await kindAt(ctx, `${prefix}:${queue}`)) !== 'bull') await bullFlavor.create!(ctx, name)
    return consumeBull(ctx, name, prefix, queue, handler, options)
  },

  async purge(ctx, name, state: MessageState = 'waiting') {
    const queue = await existing(ctx, name)
    if (!bullCapabilities.purgeStates.includes(state)) {
      throw new NotSupportedError(`Bull queues cannot purge "${state}" jobs here — they can purge: ${bullCapabilities.purgeStates.join(', ')}`)
    }
    // bull's clean; a grace in the future, so jobs added this very millisecond go too
    return (await queue.clean(-60_000, typeOf(state).type)).length
  },

  retry: (ctx, name, options) => retryBull(ctx, name, options),

  /** bull's own Job#remove (its removeJob script: the hash, logs, and every list or set it is in), only from the state asked. */
  async remove(ctx, name, ids, state) {
    const queue = await existing(ctx, name)
    const want = state === 'dead' ? 'failed' : state
    let removed = 0
    for (const id of ids) {
      const job = await queue.getJob(id)
      if (!job || (await job.getState()) !== want) continue
      try {
        await job.remove()
        removed++
      } catch {
        // bull refuses a job a worker holds the lock of: it is no longer where it was asked for
      }
    }
    return removed
  },

  async pause(ctx, name) {
    await (await existing(ctx, name)).pause()
  },

  async resume(ctx, name) {
    await (await existing(ctx, name)).resume()
  },

  close: (ctx) => closeBullQueues(ctx),
}

/** bull's own retry: Job#retry for failed jobs (or Queue#retryJobs for all), Job#promote for delayed. */
async function retryBull(ctx: FlavorContext, name: string, options: RetryOptions): Promise<number> {
  const queue = await existing(ctx, name)
  const state = options.state ?? 'dead'
  if (state !== 'dead' && state !== 'delayed') throw new NotSupportedError(`Bull retries failed jobs and promotes delayed ones, not "${state}"`)
  const type = state === 'dead' ? 'failed' : 'delayed'
  const count = async () => (await queue.getJobCounts())[type] ?? 0
  if (state === 'dead' && !options.ids && options.limit === undefined) {
    const before = await count()
    await queue.retryJobs({count: 1000})
    return Math.max(0, before - (await count()))
  }
  const ids = options.ids ?? (await queue.getRanges([type], 0, (options.limit ?? 10_000_000) - 1, true))
  let moved = 0
  for (const id of ids.slice(0, options.limit ?? ids.length)) {
    const job = await queue.getJob(id)
    if (!job) continue
    try {
      await (state === 'dead' ? job.retry() : job.promote())
      moved++
    } catch {
      // not in that state (or locked): bull refuses it, and so do we
    }
  }
  return moved
}
