// `rq`: RQ (Python) queues, checked against RQ 1.13 (RQ 2.x from its source):
//   rq:queues                   set of `rq:queue:<name>` (also for queues that are empty now)
//   rq:queue:<name>             list of job ids (RPUSH in, workers LPOP: oldest at the left)
//   rq:wip:<q> (started), rq:finished:<q>, rq:failed:<q>, rq:deferred:<q>, rq:scheduled:<q>,
//   rq:canceled:<q>             registries (zsets of job ids; started/finished/failed scores are
//                               expiry times, so RQ's count ignores the expired ones — so do we).
//                               From RQ 2.0 the started registry holds executions, `<job id>:<execution
//                               id>` (a job may have several, each with rq:execution:<both> hash);
//                               RQ 1 holds bare job ids: in flight counts each job once either way
//   rq:job:<id>                 the job hash (see ./rq-job.ts), rq:results:<id> its results stream
//   rq:workers                  set of rq:worker:<name> hashes (queues = comma-separated names)
// The call is a pickle: queuectl never writes or unpickles one, so it does not enqueue RQ jobs;
// it shows them, requeues failed ones as FailedJobRegistry.requeue does and deletes single jobs as Job.delete does.
import type {Message, MessageState, QueueStats, RetryOptions} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {runScript, type ScriptDef} from '../scripts.js'
import {rqJobToMessage, rqResultExc} from './rq-job.js'
import {RQ_QUEUES as QUEUES, rqCapabilities, rqFinder, rqQueueKey as queueKey} from './detect.js'
import {emptyIfWrongType} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {rqCapabilities} from './detect.js'

const REGISTRY: Partial<Record<MessageState, string>> = {inflight: 'wip', delayed: 'scheduled', dead: 'failed', completed: 'finished'}
const registryKey = (kind: string, name: string) => `rq:${kind}:${name}`
/** Registries whose scores are expiry times (entries past it are stale until RQ cleans up). */
const EXPIRING = new Set(['wip', 'failed', 'finished'])

// KEYS: failed registry, job hash, queue list, rq:queues. ARGV: id, now (RQ format), queue key.
const REQUEUE: ScriptDef = {
  name: 'queuectlRqRequeue',
  keys: 4,
  lua: `if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('HSET', KEYS[2], 'status', 'queued', 'enqueued_at', ARGV[2], 'started_at', '', 'ended_at', '', 'exc_info', '')
redis.call('PERSIST', KEYS[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
return 1`,
}

// Job.delete: out of the queue list or the state's registry, then the job hash and its dependents and
// dependencies sets (jobs depending on it stay, as delete_dependents=False leaves them); only a job
// that was there. KEYS: the list or registry, job hash, dependents, dependencies (RQ spells that key
// rq:job::<id>:dependencies, with two colons; the one-colon form too). ARGV: id, 'list' or 'zset'.
const DELETE: ScriptDef = {
  name: 'queuectlRqDelete',
  keys: 5,
  lua: `local n
if ARGV[2] == 'list' then n = redis.call('LREM', KEYS[1], 1, ARGV[1]) else n = redis.call('ZREM', KEYS[1], ARGV[1]) end
if n == 0 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1`,
}

/** RQ's timestamp format: microseconds, Z. */
function rqNow(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

async function existing(ctx: FlavorContext, name: string): Promise<void> {
  const probe = await rqFlavor.probe(ctx, name)
  if (probe.exists) return
  if ('wrongType' in probe) throw new NotFoundError(`key "${probe.key}" on ${ctx.displayUrl} is a ${probe.wrongType}, not an RQ queue — check the name`)
  throw new NotFoundError(`RQ queue "${name}" not found on ${ctx.displayUrl} (no rq:queue:${name} in rq:queues) — run \`queue inspect\` to list the queues`)
}

async function countRegistry(ctx: FlavorContext, kind: string, name: string): Promise<number> {
  const key = registryKey(kind, name)
  if (kind === 'wip') return (await startedJobs(ctx, name)).length
  return EXPIRING.has(kind) ? ctx.client.zcount(key, `(${Date.now() / 1000}`, '+inf') : ctx.client.zcard(key)
}

/** RQ's parse_composite_key: `job:execution` (RQ 2) or a bare job id (RQ 1). */
function parseEntry(entry: string): {id: string; execution?: string} {
  const colon = entry.indexOf(':')
  return colon < 0 ? {id: entry} : {id: entry.slice(0, colon), execution: entry.slice(colon + 1)}
}

/** The jobs running now, oldest expiry first: live started-registry entries, one per job with its execution ids. */
async function startedJobs(ctx: FlavorContext, name: string): Promise<{id: string; score: number; executions: string[]}[]> {
  const flat = await ctx.client.zrangebyscore(registryKey('wip', name), `(${Date.now() / 1000}`, '+inf', 'WITHSCORES')
  const jobs = new Map<string, {id: string; score: number; executions: string[]}>()
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const {id, execution} = parseEntry(flat[i]!)
    const job = jobs.get(id) ?? {id, score: Number(flat[i + 1]), executions: []}
    if (execution) job.executions.push(execution)
    jobs.set(id, job)
  }
  return [...jobs.values()]
}

async function messagesOf(ctx: FlavorContext, name: string, state: MessageState, ids: {id: string; score?: number}[]): Promise<Message[]> {
  if (ids.length === 0) return []
  // one command per key, sent together (job hashes live in different Cluster slots)
  const [hashes, results] = await Promise.all([
    Promise.all(ids.map(({id}) => ctx.client.hgetallBuffer(`rq:job:${id}`))),
    state === 'dead' ? Promise.all(ids.map(({id}) => ctx.client.xrevrange(`rq:results:${id}`, '+', '-', 'COUNT', 1).catch(() => []))) : [],
  ])
  return ids.map(({id, score}, i) => {
    const hash = hashes[i] ?? {}
    let exc: string | undefined
    if (state === 'dead') {
      const entries = (results[i] ?? []) as [string, string[]][]
      const fields = entries[0]?.[1] ?? []
      const at = fields.indexOf('exc_string')
      exc = at >= 0 ? rqResultExc(fields[at + 1]) : undefined
    }
    return rqJobToMessage(id, hash, name, state, score, exc)
  })
}

async function workersOf(ctx: FlavorContext, name: string): Promise<{all: number; mine: number}> {
  const keys = await ctx.client.smembers('rq:workers').catch(emptyIfWrongType<string[]>([]))
  if (keys.length === 0) return {all: 0, mine: 0}
  const queues = (await Promise.all(keys.map((key) => ctx.client.hget(key, 'queues')))).map((v) => (typeof v === 'string' ? v.split(',') : undefined))
  const alive = queues.filter((q): q is string[] => q !== undefined)
  return {all: alive.length, mine: alive.filter((q) => q.includes(name)).length}
}

export const rqFlavor: Flavor = {
  ...rqFinder,

  async stats(ctx, name): Promise<QueueStats> {
    await existing(ctx, name)
    const [waiting, firstId, inflight, delayed, dead, completed, deferred, canceled, workers] = await Promise.all([
      ctx.client.llen(queueKey(name)),
      ctx.client.lindex(queueKey(name), 0),
      countRegistry(ctx, 'wip', name),
      countRegistry(ctx, 'scheduled', name),
      countRegistry(ctx, 'failed', name),
      countRegistry(ctx, 'finished', name),
      countRegistry(ctx, 'deferred', name),
      countRegistry(ctx, 'canceled', name),
      workersOf(ctx, name),
    ])
    const stats: QueueStats = {
      name,
      kind: 'rq',
      counts: {waiting, inflight, delayed, dead, completed},
      consumers: workers.mine,
      details: {deferred, canceled, workersAllQueues: workers.all},
    }
    if (firstId) {
      const [oldest] = await messagesOf(ctx, name, 'waiting', [{id: firstId}])
      if (oldest?.enqueuedAt !== undefined) stats.oldestAgeMs = Math.max(0, Date.now() - oldest.enqueuedAt)
    }
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(options, () => existing(ctx, name), async (_, state, limit) => {
      if (state === 'waiting') {
        const ids = await ctx.client.lrange(queueKey(name), 0, limit - 1)
        return messagesOf(ctx, name, state, ids.map((id) => ({id})))
      }
      if (state === 'inflight') {
        const started = (await startedJobs(ctx, name)).slice(0, limit)
        const messages = await messagesOf(ctx, name, state, started)
        // RQ 2: name the executions (a job run again while an abandoned execution is not cleaned up yet has two)
        messages.forEach((m, i) => {
          if (started[i]!.executions.length > 0) m.headers.executions = started[i]!.executions.join(',')
        })
        return messages
      }
      const kind = REGISTRY[state]
      if (!kind) throw new NotSupportedError(`RQ keeps no "${state}" jobs — states: ${rqCapabilities.states.join(', ')}`)
      const key = registryKey(kind, name)
      const flat = EXPIRING.has(kind)
        ? await ctx.client.zrangebyscore(key, `(${Date.now() / 1000}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
        : await ctx.client.zrange(key, '0', String(limit - 1), 'WITHSCORES')
      const ids: {id: string; score: number}[] = []
      for (let i = 0; i + 1 < flat.length; i += 2) ids.push({id: flat[i]!, score: Number(flat[i + 1])})
      return messagesOf(ctx, name, state, ids)
    }),

  async purge(_ctx, name, state) {
    throw new NotSupportedError(`queuectl does not purge RQ queues (jobs have hashes and dependents RQ must clean up) — run \`rq empty ${name}\`; asked for "${state}"`)
  },

  /** Job.delete for each id found in the queue list (waiting) or the state's registry. */
  async remove(ctx, name, ids, state) {
    await existing(ctx, name)
    const kind = state === 'waiting' ? undefined : REGISTRY[state]
    if (!rqCapabilities.remove!.states.includes(state) || (state !== 'waiting' && !kind)) {
      throw new NotSupportedError(`RQ cannot delete single "${state}" jobs here — it can from: ${rqCapabilities.remove!.states.join(', ')}`)
    }
    const container = kind ? registryKey(kind, name) : queueKey(name)
    let removed = 0
    for (const id of ids) {
      const job = `rq:job:${id}`
      removed += Number(await runScript(ctx.client, DELETE, [container, job, `${job}:dependents`, `rq:job::${id}:dependencies`, `${job}:dependencies`], [id, kind ? 'zset' : 'list']))
    }
    return removed
  },

  /** FailedJobRegistry.requeue for each failed job: back on its queue, status queued. */
  async retry(ctx, name, options: RetryOptions) {
    await existing(ctx, name)
    const state = options.state ?? 'dead'
    if (state !== 'dead') throw new NotSupportedError(`RQ requeues failed jobs only, not "${state}"`)
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER
    const ids = options.ids ?? (await ctx.client.zrange(registryKey('failed', name), '0', '-1'))
    let moved = 0
    for (const id of ids) {
      if (moved >= limit) break
      const origin = (await ctx.client.hget(`rq:job:${id}`, 'origin')) ?? name
      const n = await runScript(ctx.client, REQUEUE, [registryKey('failed', name), `rq:job:${id}`, queueKey(origin), QUEUES], [id, rqNow(), queueKey(origin)])
      moved += Number(n)
    }
    return moved
  },
}
