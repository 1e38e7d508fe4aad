// `celery`: Celery queues on Redis, in kombu's layout (checked against Celery 5.2 / kombu 5.2):
//   _kombu.binding.<exchange>   set of `routing_key␆␖pattern␆␖queue` (exists while the queue is empty)
//   <queue>                     list of kombu envelopes (LPUSH in, workers BRPOP: oldest at the right)
//   <queue>␆␖<n>                priority sub-queues (n = 1…9; 0 is the queue itself and served first)
//   unacked / unacked_index     hash delivery_tag → [envelope, exchange, routing_key] + zset of times,
//                               shared by every queue: what workers hold (in flight, and eta tasks)
// queuectl reads these and LPUSHes tasks the way a Celery producer does; Celery workers consume.
import type {Message, QueueStats} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {BINDING_PREFIX, PRIORITIES, UNACKED, UNACKED_INDEX, bindingQueue, celeryBoundQueues as boundQueues, celeryCapabilities, celeryFinder, celeryListKey as listKey, KOMBU_SEP} from './detect.js'
import {encodeForCelery, envelopeToMessage, unackedTarget} from './celery-envelope.js'
import {emptyIfWrongType, enqueueInChunks} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {celeryCapabilities} from './detect.js'

const bindingMember = (name: string) => `${name}${KOMBU_SEP}${KOMBU_SEP}${name}`

async function existing(ctx: FlavorContext, name: string): Promise<void> {
  const probe = await celeryFlavor.probe(ctx, name)
  if (probe.exists) return
  if ('wrongType' in probe) throw new NotFoundError(`key "${probe.key}" on ${ctx.displayUrl} is a ${probe.wrongType}, not a Celery queue (a list) — check the name`)
  // bound to an exchange not named after it (Queue('q', Exchange('tasks'))): look at every binding
  if ((await boundQueues(ctx)).names.has(name)) return
  throw new NotFoundError(`Celery queue "${name}" not found on ${ctx.displayUrl} (no ${BINDING_PREFIX}* binding and no list "${name}") — run \`queue inspect\` to list the queues`)
}

/** Unacked entries that belong to `name`, oldest first (by unacked_index time). */
async function unackedOf(ctx: FlavorContext, name: string): Promise<Buffer[]> {
  const out: {at: number; envelope: Buffer}[] = []
  const exchangeQueues = new Map<string, Set<string>>()
  const queuesOf = async (exchange: string, routingKey: string): Promise<Set<string>> => {
    if (exchange === '') return new Set([routingKey])
    let set = exchangeQueues.get(exchange)
    if (!set) {
      const members = await ctx.client.smembers(`${BINDING_PREFIX}${exchange}`).catch(emptyIfWrongType<string[]>([]))
      set = new Set(members.filter((m) => m.split(KOMBU_SEP)[0] === routingKey).map((m) => bindingQueue(m) ?? ''))
      if (set.size === 0) set.add(routingKey)
      exchangeQueues.set(exchange, set)
    }
    return set
  }
  const tags: Buffer[] = []
  const values: Buffer[] = []
  let cursor = '0'
  do {
    const [next, flat] = await ctx.client.hscanBuffer(UNACKED, cursor, 'COUNT', 500)
    cursor = next.toString()
    for (let i = 0; i + 1 < flat.length; i += 2) {
      tags.push(flat[i]!)
      values.push(flat[i + 1]!)
    }
  } while (cursor !== '0')
  if (tags.length === 0) return []
  const pipe = ctx.client.pipeline()
  for (const tag of tags) pipe.zscore(UNACKED_INDEX, tag)
  const scores = (await pipe.exec()) ?? []
  for (let i = 0; i < values.length; i++) {
    const target = unackedTarget(values[i]!)
    if (!target) continue
    if (!(await queuesOf(target.exchange, target.routingKey)).has(name)) continue
    out.push({at: Number(scores[i]?.[1] ?? 0), envelope: target.envelope})
  }
  return out.sort((a, b) => a.at - b.at).map((e) => e.envelope)
}

export const celeryFlavor: Flavor = {
  ...celeryFinder,

  async create(ctx, name) {
    await ctx.client.sadd(`${BINDING_PREFIX}${name}`, bindingMember(name))
  },

  async delete(ctx, name) {
    await ctx.client.srem(`${BINDING_PREFIX}${name}`, bindingMember(name))
    await ctx.client.del(...PRIORITIES.map((p) => listKey(name, p)))
  },

  async stats(ctx, name): Promise<QueueStats> {
    await existing(ctx, name)
    const lengths = await Promise.all(PRIORITIES.map((p) => ctx.client.llen(listKey(name, p))))
    const inflight = (await unackedOf(ctx, name)).length
    const byPriority: Record<string, number> = {}
    PRIORITIES.forEach((p, i) => {
      if (p > 0 && lengths[i]! > 0) byPriority[String(p)] = lengths[i]!
    })
    const stats: QueueStats = {name, kind: 'celery', counts: {waiting: lengths.reduce((a, b) => a + b, 0), inflight}}
    if (Object.keys(byPriority).length > 0) stats.details = {prioritySubQueues: byPriority}
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(options, () => existing(ctx, name), async (_, state, limit) => {
      if (state === 'inflight') {
        return (await unackedOf(ctx, name)).slice(0, limit).map((raw) => envelopeToMessage(raw, name, 'inflight', true))
      }
      if (state !== 'waiting') throw new NotSupportedError(`Celery queues on Redis keep no "${state}" messages — states: ${celeryCapabilities.states.join(', ')}`)
      // served in priority order (the queue itself first), each list from its right end
      const out: Message[] = []
      for (const p of PRIORITIES) {
        if (out.length >= limit) break
        const items = await ctx.client.lrangeBuffer(listKey(name, p), -(limit - out.length), -1)
        for (const raw of items.reverse()) out.push(envelopeToMessage(raw, name, 'waiting'))
      }
      return out
    }),

  async enqueue(ctx, name, messages, options) {
    const {ids, items} = encodeForCelery(name, messages) // throws UsageError before anything is sent
    const type = await ctx.client.type(name)
    if (type !== 'list' && type !== 'none') throw new NotFoundError(`key "${name}" on ${ctx.displayUrl} is a ${type}, not a Celery queue — enqueue to another name`)
    // what a Celery producer declares for an automatic queue, so the queue shows while empty
    await ctx.client.sadd(`${BINDING_PREFIX}${name}`, bindingMember(name))
    await enqueueInChunks(ctx, items, options, (chunk) => ctx.client.lpush(name, ...chunk), (item) => item.length)
    return ids
  },

  /** Each waiting task by id: its exact kombu envelope LREMed from the list (or priority sub-list) that holds it. */
  async remove(ctx, name, ids, state) {
    await existing(ctx, name)
    if (state !== 'waiting') throw new NotSupportedError(`Celery queues on Redis can delete only waiting tasks, not "${state}" (in-flight ones are held by a worker: revoke them with \`celery control revoke ID\`)`)
    const wanted = new Set(ids)
    // id → [list, exact element]; read in chunks (bounded memory) from every priority list
    const found = new Map<string, [string, Buffer]>()
    const step = 1000
    for (const p of PRIORITIES) {
      const key = listKey(name, p)
      for (let start = 0; found.size < wanted.size; start += step) {
        const chunk = await ctx.client.lrangeBuffer(key, start, start + step - 1)
        for (const raw of chunk) {
          const id = envelopeToMessage(raw, name, 'waiting').id
          if (wanted.has(id) && !found.has(id)) found.set(id, [key, raw])
        }
        if (chunk.length < step) break
      }
    }
    let removed = 0
    for (const [key, raw] of found.values()) removed += await ctx.client.lrem(key, 1, raw)
    return removed
  },

  async purge(ctx, name, state) {
    await existing(ctx, name)
    if (state !== 'waiting') throw new NotSupportedError(`Celery queues can purge only waiting tasks, not "${state}" (in-flight ones belong to the workers)`)
    const tx = ctx.client.multi()
    for (const p of PRIORITIES) tx.llen(listKey(name, p))
    for (const p of PRIORITIES) tx.del(listKey(name, p))
    const results = (await tx.exec()) ?? []
    return results.slice(0, PRIORITIES.length).reduce((n, [, v]) => n + Number(v ?? 0), 0)
  },
}
