// `bee`: Bee-Queue queues (checked against bee-queue 2). Keys, under the prefix `bq` (or
// ?beePrefix=): bq:<queue>:id (job counter), :jobs (hash id → job JSON, see ./bee-job.ts),
// :waiting and :active (lists of ids: LPUSH in, workers BRPOPLPUSH from the right), :succeeded and
// :failed (sets), :delayed (zset, score = due time in ms), :stalling (set) and :stallBlock (the
// stall check's lock). bee-queue speaks node_redis, not ioredis, so the flavor does what the
// library does with its own scripts and MULTIs (./bee-scripts.ts), never more.
import type {Message, MessageState, QueueStats, RetryOptions} from '../../../broker/contract.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {runScript} from '../scripts.js'
import {beeJobToMessage, encodeBeeJob} from './bee-job.js'
import {consumeBee} from './bee-consume.js'
import {BEE_ADD, BEE_PURGE, BEE_RETRY} from './bee-scripts.js'
import {beeCapabilities, beeFinder, beeKeysOf as keysOf, beePrefixOf as prefixOf, type beeKeys} from './detect.js'
import {enqueueInChunks} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {beeCapabilities} from './detect.js'

/** The key holding each state's ids, and its Redis type. */
function stateKey(ctx: FlavorContext, name: string, state: MessageState): {key: string; type: 'list' | 'set' | 'zset'} {
  const k = keysOf(ctx, name)
  const map: Partial<Record<MessageState, {key: string; type: 'list' | 'set' | 'zset'}>> = {
    waiting: {key: k.waiting, type: 'list'},
    inflight: {key: k.active, type: 'list'},
    delayed: {key: k.delayed, type: 'zset'},
    dead: {key: k.failed, type: 'set'},
    completed: {key: k.succeeded, type: 'set'},
  }
  const found = map[state]
  if (!found) throw new NotSupportedError(`Bee-Queue keeps no "${state}" jobs — states: ${beeCapabilities.states.join(', ')}`)
  return found
}

async function existing(ctx: FlavorContext, name: string): Promise<ReturnType<typeof beeKeys>> {
  const probe = await beeFlavor.probe(ctx, name)
  if (probe.exists) return keysOf(ctx, name)
  if ('wrongType' in probe) throw new NotFoundError(`key "${probe.key}" on ${ctx.displayUrl} is a ${probe.wrongType}, not a Bee-Queue job hash — check the name`)
  throw new NotFoundError(`Bee-Queue queue "${name}" not found on ${ctx.displayUrl} (no ${keysOf(ctx, name).base}:* keys) — run \`queue inspect\` to list the queues, or ?beePrefix= for another prefix`)
}

async function messagesOf(ctx: FlavorContext, name: string, state: MessageState, ids: {id: string; score?: number}[]): Promise<Message[]> {
  if (ids.length === 0) return []
  const jsons = await ctx.client.hmget(keysOf(ctx, name).jobs, ...ids.map((i) => i.id))
  return ids.map(({id, score}, i) => beeJobToMessage(name, id, jsons[i] ?? null, state, score))
}

/** Up to `limit` members of a set, as bee-queue's getJobs reads them (SSCAN: no order). */
async function someMembers(ctx: FlavorContext, key: string, limit: number): Promise<string[]> {
  const found = new Set<string>()
  let cursor = '0'
  do {
    const [next, ids] = await ctx.client.sscan(key, cursor, 'COUNT', Math.min(1000, Math.max(100, limit)))
    for (const id of ids) if (found.size < limit) found.add(id)
    cursor = next
  } while (cursor !== '0' && found.size < limit)
  return [...found].sort((a, b) => Number(b) - Number(a) || b.localeCompare(a))
}

export const beeFlavor: Flavor = {
  ...beeFinder,

  async create(ctx, name) {
    // bee-queue has no "create": its job counter at 0 (bee INCRs it to 1 for the first job) marks the queue
    await ctx.client.setnx(keysOf(ctx, name).id, '0')
  },

  async delete(ctx, name) {
    // Queue#destroy: every key of the queue
    const k = keysOf(ctx, name)
    await ctx.client.del(k.id, k.jobs, k.stallBlock, k.stalling, k.leases, k.waiting, k.active, k.succeeded, k.failed, k.delayed)
  },

  async stats(ctx, name): Promise<QueueStats> {
    const k = await existing(ctx, name)
    // Queue#checkHealth's reads, plus the stalling set and the oldest waiting job, without its MULTI (a `+@read` ACL user may not run EXEC)
    const results = (await ctx.client.pipeline().llen(k.waiting).llen(k.active).scard(k.succeeded).scard(k.failed).zcard(k.delayed).get(k.id).scard(k.stalling).lindex(k.waiting, -1).exec()) ?? []
    const [waiting, active, succeeded, failed, delayed, newest, stalling, oldestId] = results.map(([, v]) => v)
    const stats: QueueStats = {
      name,
      kind: 'bee',
      counts: {waiting: Number(waiting), inflight: Number(active), delayed: Number(delayed), dead: Number(failed), completed: Number(succeeded)},
      details: {prefix: prefixOf(ctx), newestJob: newest ? Number(newest) : 0, stalling: Number(stalling)},
    }
    if (typeof oldestId === 'string') {
      const [oldest] = await messagesOf(ctx, name, 'waiting', [{id: oldestId}])
      if (oldest?.enqueuedAt !== undefined) stats.oldestAgeMs = Math.max(0, Date.now() - oldest.enqueuedAt)
    }
    return stats
  },

  async peek(ctx, name, options): Promise<Message[]> {
    await existing(ctx, name)
    const state = options.state ?? 'waiting'
    const {key, type} = stateKey(ctx, name, state)
    const limit = Math.max(0, options.limit)
    if (limit === 0) return []
    if (type === 'list') {
      // taken from the right: the next one first
      const ids = (await ctx.client.lrange(key, -limit, -1)).reverse()
      return messagesOf(ctx, name, state, ids.map((id) => ({id})))
    }
    if (type === 'set') return messagesOf(ctx, name, state, (await someMembers(ctx, key, limit)).map((id) => ({id})))
    const flat = await ctx.client.zrange(key, '0', String(limit - 1), 'WITHSCORES')
    const ids: {id: string; score: number}[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) ids.push({id: flat[i]!, score: Number(flat[i + 1])})
    return messagesOf(ctx, name, state, ids)
  },

  async enqueue(ctx, name, messages, options) {
    const k = keysOf(ctx, name)
    const add = async (chunk: ReturnType<typeof encodeBeeJob>[]) => {
      // the script's (id, json, at) triples built in place: no array per job
      const args: (string | number)[] = new Array(chunk.length * 3)
      for (let i = 0; i < chunk.length; i++) {
        const j = chunk[i]!
        args[3 * i] = j.id
        args[3 * i + 1] = j.json
        args[3 * i + 2] = j.at
      }
      return (await runScript(ctx.client, BEE_ADD, [k.id, k.jobs, k.waiting, k.delayed, k.earlierDelayed], args)) as string[]
    }
    return (await enqueueInChunks(ctx, messages.map((m) => encodeBeeJob(m)), options, add, (j) => j.json.length)).flat()
  },

  consume: (ctx, name, handler, options) => consumeBee(ctx, name, prefixOf(ctx), name, handler, options),

  async purge(ctx, name, state: MessageState = 'waiting') {
    const k = await existing(ctx, name)
    if (!beeCapabilities.purgeStates.includes(state)) {
      throw new NotSupportedError(`Bee-Queue queues cannot purge "${state}" jobs here — they can purge: ${beeCapabilities.purgeStates.join(', ')}`)
    }
    const {key, type} = stateKey(ctx, name, state)
    return Number(await runScript(ctx.client, BEE_PURGE, [key, k.jobs], [type]))
  },

  retry: (ctx, name, options) => retryBee(ctx, name, options),
}

/** Job#retry for each failed job (or those named): out of `failed`, back into `waiting`. */
async function retryBee(ctx: FlavorContext, name: string, options: RetryOptions): Promise<number> {
  const k = await existing(ctx, name)
  const state = options.state ?? 'dead'
  if (state !== 'dead') throw new NotSupportedError(`Bee-Queue retries failed jobs only, not "${state}"`)
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER
  const ids = options.ids ?? (await someMembers(ctx, k.failed, limit)).reverse()
  let moved = 0
  for (const id of ids) {
    if (moved >= limit) break
    moved += Number(await runScript(ctx.client, BEE_RETRY, [k.failed, k.waiting], [id]))
  }
  return moved
}
