// What bare-name detection and listing need of every Redis flavor, in one small module loaded at
// every start: each flavor's kind, description, capabilities and key scans, and its `probe`,
// `locate` and `discover` over those keys. The rest of a flavor (stats, peek, enqueue, consume…)
// lives in ./<kind>.ts, which the table (./index.ts) imports only when that flavor is used.
import type {Capabilities} from '../../../broker/contract.js'
import {REDIS_FLAVOR, DRIVEN_REDIS, LIBRARY_WORKERS, auxKey, mainKeyOf, type Flavor, type FlavorContext, type KeyClaims, type Probe} from '../flavor.js'
import {bullPrefix, bullQueueOfKey, emptyIfWrongType, splitBullName} from './shared.js'

/** A flavor's detection half: what the table holds before the flavor's own module is loaded. */
export type FlavorFinder = Pick<Flavor, 'kind' | 'description' | 'capabilities' | 'scans' | 'discover' | 'probe' | 'locate'>

/** BullMQ's and Bull's highest priority (2^21 - 1: both keep it in 21 bits of the score). */
export const BULLMQ_PRIORITY_LIMIT = 2 ** 21 - 1
export const BULL_PRIORITY_LIMIT = 2 ** 21 - 1

export const bullmqSplit = (ctx: FlavorContext, name: string) => splitBullName(ctx, name, 'bullmq', 'BullMQ')
export const bullSplit = (ctx: FlavorContext, name: string) => splitBullName(ctx, name, 'bull', 'Bull')

/** Glob-escapes a name for SCAN MATCH. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`)

/** Keys only Bull writes (BullMQ's are told apart by its meta; Bee-Queue has none of these). */
const BULL_ONLY = ['wait', 'paused', 'completed', 'priority', 'meta-paused', 'stalled-check']

/** A `meta` hash with anything but `paused` in it is BullMQ's (Bull writes only `paused` there). */
const isBullmqMeta = (fields: unknown) => Array.isArray(fields) && fields.some((f) => f !== 'paused')

/** Bull, BullMQ or nothing under <base>: (base = prefix:queue). */
export async function bullKindAt(ctx: FlavorContext, base: string): Promise<'bull' | 'bullmq' | 'none' | {wrongType: string}> {
  const results = (await ctx.client.pipeline().type(`${base}:id`).hkeys(`${base}:meta`).exists(...['active', 'delayed', 'failed', ...BULL_ONLY].map((k) => `${base}:${k}`)).exec()) ?? []
  const [idType, meta, others] = results.map(([error, value]) => (error ? undefined : value))
  if (isBullmqMeta(meta)) return 'bullmq'
  if (idType !== 'string' && idType !== 'none' && idType !== undefined) return {wrongType: String(idType)}
  return idType === 'string' || Number(others) > 0 ? 'bull' : 'none'
}

/** Bee-Queue's keys for one queue under a prefix. */
export function beeKeys(prefix: string, queue: string) {
  const k = (suffix: string) => `${prefix}:${queue}:${suffix}`
  return {
    base: `${prefix}:${queue}`,
    id: k('id'),
    jobs: k('jobs'),
    waiting: k('waiting'),
    active: k('active'),
    succeeded: k('succeeded'),
    failed: k('failed'),
    delayed: k('delayed'),
    stalling: k('stalling'),
    stallBlock: k('stallBlock'),
    events: k('events'),
    earlierDelayed: k('earlierDelayed'),
    /** queuectl's own: id → until when a lease keeps the job out of `stalling` (in Redis, so an extend outlives the subscription that leased it). */
    leases: k('queuectl-leases'),
  }
}

/** The keys a Bee-Queue queue may hold jobs in (any of them makes the queue). */
const QUEUE_KEYS = new Set(['id', 'jobs', 'waiting', 'active', 'succeeded', 'failed', 'delayed'])

export const beePrefixOf = (ctx: FlavorContext) => ctx.params.get('beePrefix') ?? 'bq'
export const beeKeysOf = (ctx: FlavorContext, name: string) => beeKeys(beePrefixOf(ctx), name)

export const ASYNQ_QUEUES = 'asynq:queues'

export const KOMBU_SEP = '\x06\x16'
export const BINDING_PREFIX = '_kombu.binding.'
export const UNACKED = 'unacked'
export const UNACKED_INDEX = 'unacked_index'
/** kombu's default steps are 0,3,6,9, but any 0–9 may be configured: look at all of them. */
export const PRIORITIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

export const celeryListKey = (name: string, priority: number) => (priority === 0 ? name : `${name}${KOMBU_SEP}${priority}`)

/** `routing_key␆␖pattern␆␖queue` → the queue. */
export function bindingQueue(member: string): string | undefined {
  const parts = member.split(KOMBU_SEP)
  return parts.length >= 3 ? parts[parts.length - 1] || undefined : undefined
}

/** Exchanges kombu uses for control and events, not for tasks. */
export function isControlExchange(exchange: string): boolean {
  return exchange.endsWith('.pidbox') || exchange === 'celeryev' || exchange.startsWith('celeryev.')
}

/** Queue names bound in every `_kombu.binding.*` set (task exchanges only). */
export async function celeryBoundQueues(ctx: FlavorContext): Promise<{names: Set<string>; keys: string[]; complete: boolean}> {
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

export type SidekiqSet = 'schedule' | 'retry' | 'dead'

export function sidekiqKeys(ctx: FlavorContext) {
  const ns = ctx.params.get('sidekiqNamespace')
  const k = (key: string) => (ns ? `${ns}:${key}` : key)
  return {
    k,
    queues: k('queues'),
    queue: (name: string) => k(`queue:${name}`),
    set: (set: SidekiqSet) => k(set),
    processes: k('processes'),
  }
}

/** Whether Sidekiq's own keys are on this Redis (a `queues` set alone may be an app's). */
export async function sidekiqMarkers(ctx: FlavorContext): Promise<number> {
  const k = sidekiqKeys(ctx)
  return ctx.client.exists(k.k('stat:processed'), k.k('stat:failed'), k.processes, k.set('schedule'), k.set('retry'), k.set('dead'))
}

export const RQ_QUEUES = 'rq:queues'
export const rqQueueKey = (name: string) => `rq:queue:${name}`

export const LIST_REGISTRY = 'queuectl:lists'

export const listKeysOf = (name: string) => ({
  main: name,
  processing: auxKey(name, 'processing'),
  leases: auxKey(name, 'leases'),
  dead: auxKey(name, 'dead'),
})

export const bullmqCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...DRIVEN_REDIS,
  delay: {maxMs: 365 * 24 * 3600 * 1000},
  priority: {min: 1, max: BULLMQ_PRIORITY_LIMIT},
  states: ['waiting', 'inflight', 'delayed', 'dead', 'completed'],
  purgeStates: ['waiting', 'delayed', 'dead', 'completed'],
  dedup: true,
  retry: {states: ['dead', 'completed', 'delayed']},
  remove: {states: ['waiting', 'delayed', 'dead', 'completed', 'paused']},
  pause: true,
}

export const bullCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...DRIVEN_REDIS,
  delay: {maxMs: 365 * 24 * 3600 * 1000},
  priority: {min: 1, max: BULL_PRIORITY_LIMIT},
  states: ['waiting', 'inflight', 'delayed', 'dead', 'completed', 'paused'],
  purgeStates: ['waiting', 'delayed', 'dead', 'completed', 'paused'],
  dedup: true,
  retry: {states: ['dead', 'delayed']},
  remove: {states: ['waiting', 'delayed', 'dead', 'completed', 'paused']},
  pause: true,
}

export const beeCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...DRIVEN_REDIS,
  delay: {maxMs: 10 * 365 * 24 * 3600 * 1000},
  priority: false,
  states: ['waiting', 'inflight', 'delayed', 'dead', 'completed'],
  purgeStates: ['waiting', 'delayed', 'dead', 'completed'],
  dedup: true,
  retry: {states: ['dead']},
  pause: false,
  advice: {pause: 'Bee-Queue has no pause — stop its workers instead (queue.close())'},
}

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

export const sidekiqCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...LIBRARY_WORKERS,
  delay: {maxMs: 10 * 365 * 24 * 3600 * 1000},
  priority: false,
  states: ['waiting', 'inflight', 'delayed', 'retry', 'dead'],
  purgeStates: ['waiting', 'delayed', 'retry', 'dead'],
  dedup: false,
  retry: {states: ['retry', 'dead', 'delayed']},
  remove: {states: ['waiting', 'delayed', 'retry', 'dead']},
  pause: false,
  create: true,
  delete: true,
  enqueue: true,
  advice: {
    consume: 'run Sidekiq processes on it (`sidekiq -q QUEUE`); queuectl can inspect, enqueue and retry',
    pause: 'Sidekiq pauses queues only in Sidekiq Pro (Sidekiq::Queue#pause!) — stop its Sidekiq processes instead',
    extend: 'Sidekiq processes hold their own jobs: queuectl does not consume them',
  },
}

export const rqCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...LIBRARY_WORKERS,
  delay: false,
  priority: false,
  states: ['waiting', 'inflight', 'delayed', 'dead', 'completed'],
  purgeStates: [],
  dedup: false,
  retry: {states: ['dead']},
  remove: {states: ['waiting', 'delayed', 'dead', 'completed']},
  pause: false,
  create: false,
  delete: false,
  enqueue: false,
  advice: {
    consume: 'run RQ workers on it (`rq worker QUEUE`); queuectl can inspect it and requeue failed jobs',
    enqueue: 'RQ jobs are pickled Python calls, which queuectl never writes: enqueue with RQ itself (Queue("QUEUE").enqueue(...)); queuectl can inspect the queue and requeue failed jobs',
    pause: 'stop its RQ workers (`rq suspend`)',
    create: 'RQ makes a queue with its first job: enqueue with RQ itself',
    delete: 'empty it with RQ (`rq empty QUEUE`)',
    extend: 'RQ workers hold their own jobs: queuectl does not consume them',
  },
}

export const asynqCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...LIBRARY_WORKERS,
  delay: {maxMs: 10 * 365 * 24 * 3600 * 1000},
  priority: false,
  states: ['waiting', 'inflight', 'delayed', 'retry', 'dead', 'completed'],
  purgeStates: ['waiting', 'delayed', 'retry', 'dead', 'completed'],
  dedup: false,
  retry: {states: ['retry', 'dead']},
  // asynq's own DeleteTask refuses active tasks: a server is running them
  remove: {states: ['waiting', 'delayed', 'retry', 'dead', 'completed']},
  pause: true,
  create: true,
  delete: false,
  enqueue: true,
  advice: {
    consume: 'run asynq servers (Go) on it; queuectl can inspect, enqueue, retry, delete single tasks, pause and resume it',
    delete: 'remove it with asynq itself (`asynq queue remove QUEUE`)',
    extend: 'asynq servers hold their own tasks: queuectl does not consume them',
  },
}

export const listCapabilities: Capabilities = {
  ...REDIS_FLAVOR,
  ...DRIVEN_REDIS,
  delay: false,
  priority: false,
  states: ['waiting', 'inflight', 'dead'],
  purgeStates: ['waiting', 'dead'],
  dedup: false,
  retry: {states: ['dead']},
  pause: false,
  advice: {
    pause: 'only bullmq:, bull: and asynq: queues pause — stop its consumers instead',
    delay: 'a plain Redis list has no schedule: name a job library\'s queue, e.g. bullmq:NAME',
    priority: 'a plain Redis list has no priorities: name a job library\'s queue, e.g. bullmq:NAME',
  },
}

/** What a list queue can do, but for retry: a stream keeps no retry of its own. */
export const streamCapabilities: Capabilities = {
  ...listCapabilities,
  retry: false,
  advice: {
    ...listCapabilities.advice,
    retry: 'streams have no retry of their own: peek the dead entries (--state dead) and enqueue them again',
  },
}

export const bullmqFinder: FlavorFinder = {
  kind: 'bullmq',
  description: 'BullMQ queues (<prefix>:<queue>:meta), through the bullmq library',
  capabilities: bullmqCapabilities,
  scans: [{match: '*:meta', type: 'hash'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const found = await ctx.scanner.scan({match: '*:meta', type: 'hash'})
    const candidates = found.keys.filter((k) => k.split(':').length >= 3)
    const pipe = ctx.client.pipeline()
    for (const key of candidates) pipe.hget(key, 'version')
    const versions = candidates.length > 0 ? ((await pipe.exec()) ?? []) : []
    const names: string[] = []
    const dflt = bullPrefix(ctx)
    candidates.forEach((key, i) => {
      const version = versions[i]?.[1]
      if (typeof version !== 'string' || !version.startsWith('bullmq')) return
      const {prefix, queue, listed} = bullQueueOfKey(key, dflt)
      claims.claimPrefix(`${prefix}:${queue}:`)
      names.push(listed)
    })
    return {names: names.sort(), complete: found.complete}
  },

  async probe(ctx, name): Promise<Probe> {
    const {prefix, queue} = bullmqSplit(ctx, name)
    const base = `${prefix}:${queue}`
    // a Bull (v3/v4) queue paused writes a meta holding only `paused`: that one is not BullMQ's
    const fields = await ctx.client.hkeys(`${base}:meta`).catch(emptyIfWrongType<string[]>([]))
    return fields.some((f) => f !== 'paused') ? {exists: true} : {exists: false}
  },
}

export const bullFinder: FlavorFinder = {
  kind: 'bull',
  description: 'Bull v3/v4 queues (<prefix>:<queue>:id, wait, active… without BullMQ’s meta), through the bull library',
  capabilities: bullCapabilities,
  scans: [{match: '*:id', type: 'string'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const found = await ctx.scanner.scan({match: '*:id', type: 'string'})
    const candidates = found.keys.filter((k) => k.split(':').length >= 3 && !claims.isClaimed(k))
    const pipe = ctx.client.pipeline()
    for (const key of candidates) {
      const base = key.slice(0, -':id'.length)
      pipe.get(key).hkeys(`${base}:meta`).exists(...BULL_ONLY.map((k) => `${base}:${k}`)).type(`${base}:failed`)
    }
    const results = candidates.length > 0 ? ((await pipe.exec()) ?? []) : []
    const dflt = bullPrefix(ctx)
    const names: string[] = []
    candidates.forEach((key, i) => {
      const [id, meta, only, failed] = results.slice(i * 4, i * 4 + 4).map(([error, value]) => (error ? undefined : value))
      const {prefix, queue, listed} = bullQueueOfKey(key, dflt)
      if (typeof id !== 'string' || !/^\d+$/.test(id) || isBullmqMeta(meta)) return
      // under the default prefix the job counter is enough; elsewhere a key only Bull writes must be there too
      if (prefix !== dflt && Number(only) === 0 && failed !== 'zset') return
      claims.claimPrefix(`${prefix}:${queue}:`)
      names.push(listed)
    })
    return {names: names.sort(), complete: found.complete}
  },

  async probe(ctx, name): Promise<Probe> {
    const {prefix, queue} = bullSplit(ctx, name)
    const kind = await bullKindAt(ctx, `${prefix}:${queue}`)
    if (typeof kind === 'object') return {exists: false, wrongType: kind.wrongType, key: `${prefix}:${queue}:id`}
    return kind === 'bull' ? {exists: true} : {exists: false}
  },
}

export const beeFinder: FlavorFinder = {
  kind: 'bee',
  description: 'Bee-Queue queues (bq:<queue>:jobs hash, waiting/active lists, succeeded/failed sets)',
  capabilities: beeCapabilities,
  scans: [{match: 'bq:*'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const prefix = beePrefixOf(ctx)
    // one pass over the prefix (a queue has about ten keys: its jobs live in one hash)
    const found = await ctx.scanner.scan({match: `${prefix}:*`})
    const names = new Set<string>()
    for (const key of found.keys) {
      const at = key.lastIndexOf(':')
      if (!QUEUE_KEYS.has(key.slice(at + 1)) || claims.isClaimed(key)) continue
      const name = key.slice(prefix.length + 1, at)
      if (name) names.add(name)
    }
    for (const name of names) claims.claimPrefix(`${prefix}:${name}:`)
    return {names: [...names].sort(), complete: found.complete}
  },

  async probe(ctx, name): Promise<Probe> {
    const k = beeKeysOf(ctx, name)
    // one EXISTS per key: Bee-Queue's keys carry no hash tag, so on a cluster they sit in different slots
    const others = [k.id, k.waiting, k.active, k.succeeded, k.failed, k.delayed]
    const [type, ...found] = await Promise.all([ctx.client.type(k.jobs), ...others.map((key) => ctx.client.exists(key))])
    const n = found.reduce((a, b) => a + b, 0)
    if (type !== 'hash' && type !== 'none') return {exists: false, wrongType: type, key: k.jobs}
    return type === 'hash' || n > 0 ? {exists: true} : {exists: false}
  },
}

export const celeryFinder: FlavorFinder = {
  kind: 'celery',
  description: "Celery queues in kombu's Redis layout (_kombu.binding.* sets, one list per queue)",
  capabilities: celeryCapabilities,
  scans: [{match: `${BINDING_PREFIX}*`, type: 'set'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const {names, complete} = await celeryBoundQueues(ctx)
    claims.claimPrefix(BINDING_PREFIX)
    for (const key of [UNACKED, UNACKED_INDEX, 'unacked_mutex']) claims.claimKey(key)
    for (const name of names) for (const p of PRIORITIES) claims.claimKey(celeryListKey(name, p))
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
}

export const sidekiqFinder: FlavorFinder = {
  kind: 'sidekiq',
  description: 'Sidekiq queues (the `queues` set, queue:<name> lists, schedule/retry/dead sets)',
  capabilities: sidekiqCapabilities,
  scans: [],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const k = sidekiqKeys(ctx)
    const members = (await ctx.client.smembers(k.queues).catch(emptyIfWrongType<string[]>([]))).sort()
    if (members.length === 0) return {names: [], complete: true}
    // `queues` is a common name: a member counts when its list exists or Sidekiq's own keys do
    const types = await Promise.all(members.map((name) => ctx.client.type(k.queue(name))))
    const sidekiqHere = (await sidekiqMarkers(ctx)) > 0
    const names = members.filter((_name, i) => types[i] === 'list' || (sidekiqHere && types[i] === 'none'))
    for (const name of names) claims.claimKey(k.queue(name))
    return {names, complete: true}
  },

  async probe(ctx, name): Promise<Probe> {
    const k = sidekiqKeys(ctx)
    const [member, type] = await Promise.all([ctx.client.sismember(k.queues, name).catch(emptyIfWrongType(0)), ctx.client.type(k.queue(name))])
    if (member !== 1) return {exists: false}
    if (type === 'list') return {exists: true}
    if (type !== 'none') return {exists: false, wrongType: type, key: k.queue(name)}
    return (await sidekiqMarkers(ctx)) > 0 ? {exists: true} : {exists: false}
  },
}

export const rqFinder: FlavorFinder = {
  kind: 'rq',
  description: 'RQ queues (rq:queues, rq:queue:<name> lists of job ids, registries, rq:job:<id> hashes)',
  capabilities: rqCapabilities,
  scans: [],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const members = await ctx.client.smembers(RQ_QUEUES).catch(emptyIfWrongType<string[]>([]))
    const names = members.filter((m) => m.startsWith('rq:queue:')).map((m) => m.slice('rq:queue:'.length))
    claims.claimPrefix('rq:')
    return {names: names.sort(), complete: true}
  },

  async probe(ctx, name): Promise<Probe> {
    const [member, type] = await Promise.all([ctx.client.sismember(RQ_QUEUES, rqQueueKey(name)).catch(emptyIfWrongType(0)), ctx.client.type(rqQueueKey(name))])
    if (type !== 'list' && type !== 'none') return {exists: false, wrongType: type, key: rqQueueKey(name)}
    return member === 1 || type === 'list' ? {exists: true} : {exists: false}
  },
}

export const asynqFinder: FlavorFinder = {
  kind: 'asynq',
  description: 'asynq queues (asynq:queues, asynq:{q}:pending/active lists, scheduled/retry/archived/completed sets)',
  capabilities: asynqCapabilities,
  scans: [],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const names = (await ctx.client.smembers(ASYNQ_QUEUES).catch(emptyIfWrongType<string[]>([]))).sort()
    claims.claimPrefix('asynq:')
    return {names, complete: true}
  },

  async probe(ctx, name): Promise<Probe> {
    return (await ctx.client.sismember(ASYNQ_QUEUES, name).catch(emptyIfWrongType(0))) === 1 ? {exists: true} : {exists: false}
  },
}

export const streamFinder: FlavorFinder = {
  kind: 'stream',
  description: 'a Redis Stream read through a consumer group (XADD, XREADGROUP, XACK, XAUTOCLAIM)',
  capabilities: streamCapabilities,
  scans: [{type: 'stream'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const found = await ctx.scanner.scan({type: 'stream'})
    const all = new Set(found.keys.filter((k) => !claims.isClaimed(k)))
    const names = [...all].filter((k) => {
      const main = mainKeyOf(k, 'dead')
      return main === undefined || !all.has(main)
    })
    for (const name of names) {
      claims.claimKey(name)
      claims.claimKey(auxKey(name, 'dead'))
    }
    return {names: names.sort(), complete: found.complete}
  },

  async probe(ctx, name): Promise<Probe> {
    const type = await ctx.client.type(name)
    if (type === 'stream') return {exists: true}
    if (type === 'none') return {exists: false}
    return {exists: false, wrongType: type, key: name}
  },
}

export const listFinder: FlavorFinder = {
  kind: 'list',
  description: 'a plain Redis list (LPUSH in, LMOVE to a processing list out)',
  capabilities: listCapabilities,
  scans: [{type: 'list'}],

  async discover(ctx: FlavorContext, claims: KeyClaims) {
    const [lists, registered] = await Promise.all([ctx.scanner.scan({type: 'list'}), ctx.client.smembers(LIST_REGISTRY)])
    const names = new Set(registered)
    const aux: string[] = []
    for (const key of lists.keys) {
      if (claims.isClaimed(key)) continue
      if (mainKeyOf(key, 'processing') !== undefined || mainKeyOf(key, 'dead') !== undefined) aux.push(key)
      else names.add(key)
    }
    // an aux list whose main list is gone (drained) still means the queue exists
    for (const key of aux) names.add((mainKeyOf(key, 'processing') ?? mainKeyOf(key, 'dead'))!)
    for (const name of names) for (const key of Object.values(listKeysOf(name))) claims.claimKey(key)
    return {names: [...names].sort(), complete: lists.complete}
  },

  async probe(ctx: FlavorContext, name: string): Promise<Probe> {
    const k = listKeysOf(name)
    const [type, member, aux] = await Promise.all([
      ctx.client.type(k.main),
      ctx.client.sismember(LIST_REGISTRY, name),
      ctx.client.exists(k.processing, k.dead).catch(() => 0),
    ])
    if (type === 'list') return {exists: true}
    if (type !== 'none') return {exists: false, wrongType: type, key: k.main}
    return member === 1 || aux > 0 ? {exists: true} : {exists: false}
  },
}

bullmqFinder.locate = async (ctx, name) => {
  if (name.includes(':')) return (await bullmqFinder.probe(ctx, name)).exists ? [name] : []
  const found = new Set<string>()
  if ((await bullmqFinder.probe(ctx, name)).exists) found.add(name)
  const {keys} = await ctx.scanner.scan({match: `*:${globEscape(name)}:meta`, type: 'hash'})
  const dflt = bullPrefix(ctx)
  for (const key of keys) {
    const prefix = key.slice(0, -`:${name}:meta`.length)
    if (!prefix) continue
    const version = await ctx.client.hget(key, 'version')
    if (version?.startsWith('bullmq')) found.add(prefix === dflt ? name : `${prefix}:${name}`)
  }
  return [...found]
}
