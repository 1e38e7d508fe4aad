// `bullmq`: BullMQ queues, always through the bullmq library (imported only when a bullmq queue is
// touched): getJobCounts, getRanges + Job.fromId, addBulk, a manual Worker, retryJobs,
// promoteJobs, clean, pause/resume. Reads (stats, peek) write nothing: plain read commands
// (./bullmq-read.ts) and a Queue made with skipMetasUpdate, so looking at a queue never rewrites its
// meta and works for a `+@read` ACL user (a peek with a match runs a read-only script, ./job-match.ts,
// and falls back to the plain reads where EVAL is denied). Keys are <prefix>:<queue>:…; the prefix defaults to `bull`
// (`{bull}` on a Cluster, where BullMQ needs a hash tag) or ?prefix= in the URL. A queue under
// another prefix is addressed as bullmq:<prefix>:<queue>.
import type {Queue} from 'bullmq'
import type {Message, MessageState, PeekMatch, QueueStats} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {fromJob, toJob, undecodableJob} from './bullmq-job.js'
import {oldestWaiting, readCounts, readIds, readMeta, type BullmqType} from './bullmq-read.js'
import {closeWorkers, consumeBullmq} from './bullmq-consume.js'
import {addBulkWrittenNow, addClientOf} from './bullmq-add.js'
import {matchingIds, scriptConditions} from './job-match.js'
import {bullmqCapabilities, bullmqFinder, bullmqSplit as split} from './detect.js'
import {enqueueInChunks, jobDataSize} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {bullmqCapabilities} from './detect.js'

// contract state → BullMQ job types (BullMQ 6 has no paused list: a paused queue keeps its jobs in wait; a queue BullMQ 5 paused may still have one)
const TYPES: Record<string, BullmqType[]> = {
  waiting: ['wait', 'paused', 'prioritized'],
  inflight: ['active'],
  delayed: ['delayed'],
  dead: ['failed'],
  completed: ['completed'],
}

// BullMQ's types held in lists (ids newest first); the others are zsets read by score
const LIST_TYPES = new Set<BullmqType>(['wait', 'paused', 'active'])

const queues = new WeakMap<FlavorContext, Map<string, Promise<Queue>>>()

/**
 * The library's Queue for `name`. A writer (enqueue, retry, clean…) writes the queue's meta on
 * first use as BullMQ does; a reader (`read`) is made with skipMetasUpdate and writes nothing.
 */
async function queueFor(ctx: FlavorContext, name: string, read = false): Promise<Queue> {
  let cache = queues.get(ctx)
  if (!cache) queues.set(ctx, (cache = new Map()))
  const cacheKey = `${read ? 'r' : 'w'}:${name}`
  let queue = cache.get(cacheKey)
  if (!queue) {
    const {prefix, queue: q} = split(ctx, name)
    queue = import('bullmq').then(({Queue}) => {
      const made = new Queue(q, {connection: ctx.client, prefix, skipVersionCheck: true, skipMetasUpdate: read})
      made.on('error', () => {}) // errors reach callers through the rejected calls
      return made
    })
    cache.set(cacheKey, queue)
  }
  return queue
}

/** The queue for a command that changes it, after checking it exists (exit 4). */
async function existing(ctx: FlavorContext, name: string, read = false): Promise<Queue> {
  const probe = await bullmqFlavor.probe(ctx, name)
  if (!probe.exists) {
    throw new NotFoundError(`BullMQ queue "${name}" not found on ${ctx.displayUrl} (no ${split(ctx, name).prefix}:${split(ctx, name).queue}:meta) — run \`queue inspect\` to list the queues, or ?prefix= for another prefix`)
  }
  return queueFor(ctx, name, read)
}

const baseOf = (ctx: FlavorContext, name: string) => {
  const {prefix, queue} = split(ctx, name)
  return `${prefix}:${queue}`
}

function typesOf(state: MessageState) {
  const types = TYPES[state]
  if (!types) throw new NotSupportedError(`BullMQ keeps no "${state}" jobs — states: ${bullmqCapabilities.states.join(', ')}`)
  return types
}

/** With a match the script can decide: the ids of at most `limit` jobs that can match, across the whole state (undefined: read as without). */
async function pushedIds(ctx: FlavorContext, base: string, types: BullmqType[], match: PeekMatch | undefined, limit: number): Promise<string[] | undefined> {
  const conds = scriptConditions(match)
  if (!conds) return undefined
  const keys = types.map((type) => ({key: `${base}:${type}`, order: LIST_TYPES.has(type) ? ('list' as const) : ('asc' as const)}))
  return matchingIds(ctx, `${base}:`, keys, conds, limit, {markers: true})
}

export const bullmqFlavor: Flavor = {
  ...bullmqFinder,

  async create(ctx, name) {
    // BullMQ writes its meta hash on first use: let the library do it
    await (await queueFor(ctx, name)).getJobCounts('wait')
  },

  async delete(ctx, name) {
    await (await queueFor(ctx, name)).obliterate({force: true})
  },

  async stats(ctx, name): Promise<QueueStats> {
    const queue = await existing(ctx, name, true)
    const base = baseOf(ctx, name)
    const [c, meta, workers, oldest] = await Promise.all([
      readCounts(ctx, base, ['wait', 'paused', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children']),
      readMeta(ctx, base),
      queue.getWorkersCount().catch(() => undefined), // CLIENT LIST may be denied by an ACL
      oldestWaiting(ctx, base),
    ])
    const stats: QueueStats = {
      name,
      kind: 'bullmq',
      counts: {
        waiting: c.wait + c.paused + c.prioritized,
        inflight: c.active,
        delayed: c.delayed,
        dead: c.failed,
        completed: c.completed,
      },
      paused: meta.paused,
      details: {prefix: split(ctx, name).prefix, version: meta.version, prioritized: c.prioritized, waitingChildren: c['waiting-children'], schedulers: meta.schedulers},
    }
    if (workers !== undefined) stats.consumers = workers
    if (oldest !== undefined) stats.oldestAgeMs = Math.max(0, Date.now() - oldest)
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(options, () => existing(ctx, name, true), async (queue, state, limit) => {
      const base = baseOf(ctx, name)
      const ids = (await pushedIds(ctx, base, typesOf(state), options.match, limit)) ?? (await readIds(ctx, base, typesOf(state), limit))
      const {Job} = await import('bullmq')
      const out: Message[] = []
      for (const id of ids) {
        try {
          const job = await Job.fromId(queue, id)
          if (job && !Number.isFinite(job.timestamp)) throw new Error('its "timestamp" is not a number of milliseconds')
          if (job) out.push(fromJob(name, job, state))
        } catch (error) {
          // BullMQ cannot parse this hash (corrupt data/opts, a timestamp that is no number): show it raw instead of failing the listing
          const hash = await ctx.client.hgetall(`${base}:${id}`)
          out.push(undecodableJob(name, id, state, hash, `BullMQ cannot read job ${id}: ${(error as Error).message}`))
        }
      }
      return out
    }),

  async enqueue(ctx, name, messages, options) {
    const queue = await queueFor(ctx, name)
    const client = await addClientOf(queue)
    // addBulk's pipeline written at the call: several batches in flight on one connection, applied in order
    const add = (chunk: ReturnType<typeof toJob>[]) => addBulkWrittenNow(queue, client, chunk)
    return (await enqueueInChunks(ctx, messages.map(toJob), options, add, jobDataSize, 4, true)).flat()
  },

  async consume(ctx, name, handler, options) {
    const {prefix, queue} = split(ctx, name)
    await bullmqFlavor.create!(ctx, name)
    return consumeBullmq(ctx, name, queue, prefix, handler, options)
  },

  async purge(ctx, name, state: MessageState = 'waiting') {
    const queue = await existing(ctx, name)
    if (!bullmqCapabilities.purgeStates.includes(state)) {
      throw new NotSupportedError(`BullMQ queues cannot purge "${state}" jobs here — they can purge: ${bullmqCapabilities.purgeStates.join(', ')}`)
    }
    let removed = 0
    // a grace in the future, so jobs added this very millisecond go too
    for (const type of typesOf(state)) removed += (await queue.clean(-60_000, 0, type as Exclude<BullmqType, 'waiting-children'>)).length
    return removed
  },

  async retry(ctx, name, options) {
    const queue = await existing(ctx, name)
    const state = options.state ?? 'dead'
    if (state === 'delayed' && options.ids) {
      const {Job} = await import('bullmq')
      let n = 0
      for (const id of options.ids.slice(0, options.limit ?? options.ids.length)) {
        const job = await Job.fromId(queue, id)
        if (job && (await job.getState()) === 'delayed') {
          await job.promote()
          n++
        }
      }
      return n
    }
    if (state === 'delayed') {
      const before = await queue.getDelayedCount()
      await queue.promoteJobs({count: options.limit ?? 10_000_000})
      return before - (await queue.getDelayedCount())
    }
    if (state !== 'dead' && state !== 'completed') throw new NotSupportedError(`BullMQ retries failed or completed jobs and promotes delayed ones, not "${state}"`)
    const bullState = state === 'dead' ? 'failed' : 'completed'
    if (options.ids) {
      const {Job} = await import('bullmq')
      let n = 0
      for (const id of options.ids.slice(0, options.limit ?? options.ids.length)) {
        const job = await Job.fromId(queue, id)
        if (job && (await job.getState()) === bullState) {
          await job.retry(bullState)
          n++
        }
      }
      return n
    }
    const count = () => (bullState === 'failed' ? queue.getFailedCount() : queue.getCompletedCount())
    const before = await count()
    await queue.retryJobs({state: bullState, count: options.limit ?? 10_000_000})
    return before - (await count())
  },

  async remove(ctx, name, ids, state) {
    const queue = await existing(ctx, name)
    const types = typesOf(state) as string[]
    const {Job} = await import('bullmq')
    let n = 0
    for (const id of ids) {
      const job = await Job.fromId(queue, id)
      // the library's own removal (its hash, logs and the state's list or set), only from the state asked
      const at = job ? await job.getState() : undefined
      if (job && types.includes(at === 'waiting' ? 'wait' : String(at))) {
        await job.remove()
        n++
      }
    }
    return n
  },

  async pause(ctx, name) {
    await (await existing(ctx, name)).pause()
  },

  async resume(ctx, name) {
    await (await existing(ctx, name)).resume()
  },

  async close(ctx) {
    await closeWorkers(ctx)
    const cache = queues.get(ctx)
    if (!cache) return
    queues.delete(ctx)
    await Promise.allSettled([...cache.values()].map(async (q) => (await q).close()))
  },
}
