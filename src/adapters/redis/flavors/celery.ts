// `celery`: Celery queues on Redis, in kombu's layout (checked against Celery 5.2 / kombu 5.2):
//   _kombu.binding.<exchange>   set of `routing_key␆␖pattern␆␖queue` (exists while the queue is empty)
//   <queue>                     list of kombu envelopes (LPUSH in, workers BRPOP: oldest at the right)
//   <queue>␆␖<n>                priority sub-queues (n = 1…9; 0 is the queue itself and served first)
//   unacked / unacked_index     hash delivery_tag → [envelope, exchange, routing_key] + zset of times,
//                               shared by every queue: what workers hold (in flight, and eta tasks)
// queuectl reads these and LPUSHes tasks the way a Celery producer does; Celery workers consume.
import type {Capabilities, Message, QueueStats} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext, KeyClaims, Probe} from '../flavor.js'
import {REDIS_FLAVOR, LIBRARY_WORKERS} from '../flavor.js'
import {KOMBU_SEP, bindingQueue, encodeForCelery, envelopeToMessage, isControlExchange, unackedTarget} from './celery-envelope.js'
import {emptyIfWrongType, enqueueInChunks} from './shared.js'

const BINDING_PREFIX = '_kombu.binding.'
const UNACKED = 'unacked'
const UNACKED_INDEX = 'unacked_index'
/** kombu's default steps are 0,3,6,9, but any 0–9 may be configured: look at all of them. */
const PRIORITIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

export const celeryCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...LIBRARY_WORKERS,
  // an eta task: the worker that takes it holds it until due
  delay: {maxMs: 365 * 24 * 3600 * 1000},
  priority: false,
  states: ['waiting', 'inflight'],
  purgeStates: ['waiting'],
  // a reserved (unacked) task is in a worker's hands: deleting its entry would not stop it running
  remove: {states: ['waiting']},
  dedup: false,
  retry: false,
  pause: false,
  create: true,
  delete: true,
  enqueue: true,
  advice: {
    consume: 'run Celery workers on it (`celery -A <app> worker -Q QUEUE`); queuectl can inspect it, enqueue tasks and delete waiting ones',
    pause: 'stop its Celery workers consuming it (`celery control cancel_consumer QUEUE`)',
    retry: 'Celery retries tasks inside its workers (Task.retry); it keeps no dead tasks for queuectl to revive',
    extend: 'Celery workers hold their own tasks: queuectl does not consume them',
  },
}

const listKey = (name: string, priority: number) => (priority === 0 ? name : `${name}${KOMBU_SEP}${priority}`)
const bindingMember = (name: string) => `${name}${KOMBU_SEP}${KOMBU_SEP}${name}`

/** Queue names bound in every `_kombu.binding.*` set (task exchanges only). */
async function boundQueues(ctx: FlavorContext): Promise<{names: Set<string>; keys: string[]; complete: boolean}> {
  const found = await ctx.scanner.scan({match: `${BINDING_PREFIX}*`, type: 'set'})
  const keys = found.keys.filter((k) => !isControlExchange(k.slice(BINDING_PREFIX.length)))
  // one command per key, sent together: a pipeline would have to share a slot on a Cluster
  const members = await Promise.all(keys.map((key) => ctx.client.smembers(key).catch(emptyIfWrongType<string[]>([]))))
  const names = new Set<string>()
  for (const value of members) for (const m of value) {
    const q = bindingQueue(m)
    if (q && !q.endsWith('.pidbox') && !q.startsWith('celeryev.')) names.add(q)
  }
  return {names, keys, complete: found.complete}
}

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
  kind: 'celery',
  description: "Celery queues in kombu's Redis layout (_kombu.binding.* sets, one list per queue)",
  capabilities: celeryCapabilities,
  scans: [{match: `${BINDING_PREFIX}*`, type: 'set'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const {names, complete} = await boundQueues(ctx)
    claims.claimPrefix(BINDING_PREFIX)
    for (const key of [UNACKED, UNACKED_INDEX, 'unacked_mutex']) claims.claimKey(key)
    for (const name of names) for (const p of PRIORITIES) claims.claimKey(listKey(name, p))
    return {names: [...names].sort(), complete}
  },

  async probe(ctx, name): Promise<Probe> {
    const [members, type] = await Promise.all([ctx.client.smembers(`${BINDING_PREFIX}${name}`).catch(emptyIfWrongType<string[]>([])), ctx.client.type(name)])
    if (members.some((m) => bindingQueue(m) === name)) return type === 'list' || type === 'none' ? {exists: true} : {exists: false, wrongType: type, key: name}
    // an unbound list whose items are kombu envelopes is a Celery queue too
    if (type === 'list') {
      const last = await ctx.client.lindex(name, -1)
      return last !== null && /^\{"body":/.test(last) && last.includes('"properties"') ? {exists: true} : {exists: false}
    }
    return {exists: false}
  },

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
