// `sidekiq`: Sidekiq queues (checked against Sidekiq 6.4; 7.x and 8.x from their source). Keys, all under an optional
// namespace (?sidekiqNamespace=myapp → myapp:queues…, as redis-namespace writes them):
//   queues                      set of queue names
//   queue:<name>                list of job JSON (LPUSH in, workers BRPOP: oldest at the right)
//   schedule, retry, dead       zsets shared by every queue (score = when, in seconds); each job
//                               names its queue, so per-queue counts read the jobs
//   processes + <identity>      process hashes (info JSON: queues, or from 8.0.8 capsules with their
//                               weights; version from 7.1), <identity>:work (7+) or :workers (6)
//                               = the jobs running now
//   stat:processed, stat:failed (+ :YYYY-MM-DD)  counters
// queuectl enqueues as Sidekiq::Client.push does, retries as SortedEntry#retry does, runs a scheduled
// job now as SortedEntry#add_to_queue does and deletes one as Job#delete/SortedEntry#delete do; Sidekiq
// processes run the jobs. Job times are written as the Sidekiq in use writes them (see writeFormat).
import type {MessageState, QueueStats, RetryOptions} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {runScript, type ScriptDef} from '../scripts.js'
import {encodeSidekiqJobs, parseSidekiqJob, queueOfJob, requeuedJob, sidekiqJobToMessage, timeFormatOf, type TimeFormat} from './sidekiq-job.js'
import {sidekiqCapabilities, sidekiqFinder, sidekiqKeys as keys, type SidekiqSet as SetName} from './detect.js'
import {enqueueInChunks} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {sidekiqCapabilities} from './detect.js'

const SET_OF: Partial<Record<MessageState, SetName>> = {delayed: 'schedule', retry: 'retry', dead: 'dead'}

// KEYS: the set, the queue list, the queues set. ARGV: old member, new job JSON, queue name.
const REQUEUE: ScriptDef = {
  name: 'queuectlSidekiqRequeue',
  keys: 3,
  lua: `if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('SADD', KEYS[3], ARGV[3])
  redis.call('LPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0`,
}

function utcDay(ms = Date.now()): string {
  return new Date(ms).toISOString().slice(0, 10)
}

// `queue inspect` asks for every queue's stats at once: read each global set once for all of them
const recentReads = new WeakMap<FlavorContext, Map<string, {at: number; entries: Promise<{raw: Buffer; score: number}[]>}>>()
const REUSE_MS = 1000

/** Every member of a global set with its score (shared for a second between calls). */
function readSet(ctx: FlavorContext, key: string): Promise<{raw: Buffer; score: number}[]> {
  let cache = recentReads.get(ctx)
  if (!cache) recentReads.set(ctx, (cache = new Map()))
  const hit = cache.get(key)
  if (hit && Date.now() - hit.at < REUSE_MS) return hit.entries
  const entries = readSetNow(ctx, key)
  cache.set(key, {at: Date.now(), entries})
  entries.catch(() => cache.delete(key))
  return entries
}

/** Every member of a global set with its score, read in chunks (the sets hold every queue's jobs). */
async function readSetNow(ctx: FlavorContext, key: string): Promise<{raw: Buffer; score: number}[]> {
  const out: {raw: Buffer; score: number}[] = []
  const step = 1000
  for (let start = 0; ; start += step) {
    const flat = await ctx.client.zrangeBuffer(key, String(start), String(start + step - 1), 'WITHSCORES')
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({raw: flat[i]!, score: Number(flat[i + 1]!.toString())})
    if (flat.length < step * 2) return out
  }
}

async function setEntriesOf(ctx: FlavorContext, set: SetName, name: string) {
  return (await readSetNow(ctx, keys(ctx).set(set))).filter((e) => queueOfJob(e.raw.toString('utf8')) === name)
}

interface ProcessInfo {
  identity: string
  queues: string[]
  /** Sidekiq::VERSION, reported from 7.1 on. */
  version?: string
  busy: {queue: string; payload: string; runAt: number}[]
}

/** A process's queues: its capsules' weights from Sidekiq 8.0.8 (Process#queues), else `queues`. */
function queuesOfInfo(info: {queues?: unknown; capsules?: unknown}): string[] {
  if (info.capsules && typeof info.capsules === 'object') {
    const names = Object.values(info.capsules as Record<string, {weights?: Record<string, unknown>}>).flatMap((c) => Object.keys(c?.weights ?? {}))
    return [...new Set(names)]
  }
  return Array.isArray(info.queues) ? info.queues.map(String) : []
}

/** The jobs running now: `<identity>:work` from Sidekiq 7 (payload a JSON string), `:workers` in 6 (payload an object). */
function busyOf(work: Record<string, string>): ProcessInfo['busy'] {
  return Object.values(work).flatMap((v) => {
    try {
      const w = JSON.parse(v) as {queue?: string; payload?: unknown; run_at?: number}
      return [{queue: String(w.queue), payload: typeof w.payload === 'string' ? w.payload : JSON.stringify(w.payload), runAt: Number(w.run_at ?? 0)}]
    } catch {
      return []
    }
  })
}

async function processes(ctx: FlavorContext): Promise<ProcessInfo[]> {
  const k = keys(ctx)
  const identities = await ctx.client.smembers(k.processes)
  const out: ProcessInfo[] = []
  for (const identity of identities) {
    const [info, work, workers] = await Promise.all([
      ctx.client.hget(k.k(identity), 'info'),
      ctx.client.hgetall(k.k(`${identity}:work`)),
      ctx.client.hgetall(k.k(`${identity}:workers`)),
    ])
    if (info === null) continue // a process that died without cleaning up: its hash expired
    let parsed: {queues?: unknown; capsules?: unknown; version?: unknown} = {}
    try {
      parsed = JSON.parse(info) as typeof parsed
    } catch {
      // a broken info blob: the process still counts, with no queues known
    }
    const process: ProcessInfo = {identity, queues: queuesOfInfo(parsed), busy: [...busyOf(work), ...busyOf(workers)]}
    if (typeof parsed.version === 'string') process.version = parsed.version
    out.push(process)
  }
  return out
}

/**
 * How to write job times for the Sidekiq in use: the live processes' version when they report
 * one (integer ms if every one is 8+, float seconds if any is older: it would misread ms; a
 * process without a version is older than 7.1), else the format of the queue's newest job or
 * of the newest scheduled or retried one, else float seconds, which every Sidekiq reads
 * (8 takes a JSON float as the old format) while 6 and 7 misread ms by a factor of 1000.
 */
export async function writeFormat(ctx: FlavorContext, name: string): Promise<TimeFormat> {
  const procs = await processes(ctx)
  if (procs.length > 0) return procs.every((p) => Number(p.version?.split('.')[0]) >= 8) ? 'ms' : 'seconds'
  const k = keys(ctx)
  const [newest, scheduled, retry] = await Promise.all([
    ctx.client.lindex(k.queue(name), 0),
    ctx.client.zrange(k.set('schedule'), '-1', '-1'),
    ctx.client.zrange(k.set('retry'), '-1', '-1'),
  ])
  for (const raw of [newest, scheduled[0], retry[0]]) {
    if (!raw) continue
    const parsed = parseSidekiqJob(raw)
    const format = 'job' in parsed ? timeFormatOf(parsed.job) : undefined
    if (format) return format
  }
  return 'seconds'
}

async function existing(ctx: FlavorContext, name: string): Promise<void> {
  const probe = await sidekiqFlavor.probe(ctx, name)
  if (probe.exists) return
  if ('wrongType' in probe) throw new NotFoundError(`key "${probe.key}" on ${ctx.displayUrl} is a ${probe.wrongType}, not a Sidekiq queue — check the name`)
  throw new NotFoundError(`Sidekiq queue "${name}" not found on ${ctx.displayUrl} (not in the "${keys(ctx).queues}" set) — run \`queue inspect\` to list the queues, or ?sidekiqNamespace= for a namespace`)
}

export const sidekiqFlavor: Flavor = {
  ...sidekiqFinder,

  async create(ctx, name) {
    const k = keys(ctx)
    await ctx.client.sadd(k.queues, name)
    // an empty queue is told from an app's own `queues` set by Sidekiq's keys beside it: on a Redis
    // where Sidekiq never ran, write the one its Stats reads as 0 when absent (changes no count)
    await ctx.client.set(k.k('stat:processed'), '0', 'NX')
  },

  async delete(ctx, name) {
    // Sidekiq::Queue#clear: the list and the registry entry
    const k = keys(ctx)
    await ctx.client.del(k.queue(name))
    await ctx.client.srem(k.queues, name)
  },

  async stats(ctx, name): Promise<QueueStats> {
    await existing(ctx, name)
    const k = keys(ctx)
    const day = utcDay()
    const [waiting, oldest, processed, failed, processedToday, failedToday] = await Promise.all([
      ctx.client.llen(k.queue(name)),
      ctx.client.lindex(k.queue(name), -1),
      ctx.client.get(k.k('stat:processed')),
      ctx.client.get(k.k('stat:failed')),
      ctx.client.get(k.k(`stat:processed:${day}`)),
      ctx.client.get(k.k(`stat:failed:${day}`)),
    ])
    const [scheduled, retry, dead, procs] = await Promise.all([
      readSet(ctx, k.set('schedule')),
      readSet(ctx, k.set('retry')),
      readSet(ctx, k.set('dead')),
      processes(ctx),
    ])
    const mine = (entries: {raw: Buffer}[]) => entries.filter((e) => queueOfJob(e.raw.toString('utf8')) === name).length
    const stats: QueueStats = {
      name,
      kind: 'sidekiq',
      counts: {
        waiting,
        inflight: procs.reduce((n, p) => n + p.busy.filter((b) => b.queue === name).length, 0),
        delayed: mine(scheduled),
        retry: mine(retry),
        dead: mine(dead),
      },
      consumers: procs.filter((p) => p.queues.includes(name)).length,
      details: {
        processed: Number(processed ?? 0),
        failed: Number(failed ?? 0),
        processedToday: Number(processedToday ?? 0),
        failedToday: Number(failedToday ?? 0),
        scheduledAllQueues: scheduled.length,
        retryAllQueues: retry.length,
        deadAllQueues: dead.length,
        processes: procs.length,
      },
    }
    const enqueuedAt = oldest ? sidekiqJobToMessage(Buffer.from(oldest), name, 'waiting').enqueuedAt : undefined
    if (enqueuedAt !== undefined) stats.oldestAgeMs = Math.max(0, Date.now() - enqueuedAt)
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(options, () => existing(ctx, name), async (_, state, limit) => {
      if (state === 'waiting') {
        const items = await ctx.client.lrangeBuffer(keys(ctx).queue(name), -limit, -1)
        return items.reverse().map((raw) => sidekiqJobToMessage(raw, name, 'waiting'))
      }
      if (state === 'inflight') {
        const busy = (await processes(ctx)).flatMap((p) => p.busy).filter((b) => b.queue === name)
        return busy.sort((a, b) => a.runAt - b.runAt).slice(0, limit).map((b) => sidekiqJobToMessage(Buffer.from(b.payload), name, 'inflight'))
      }
      const set = SET_OF[state]
      if (!set) throw new NotSupportedError(`Sidekiq keeps no "${state}" jobs — states: ${sidekiqCapabilities.states.join(', ')}`)
      const entries = await setEntriesOf(ctx, set, name)
      // the dead set is newest-last by death time; show the most recent deaths first, like Sidekiq's UI
      const ordered = set === 'dead' ? entries.reverse() : entries
      return ordered.slice(0, limit).map((e) => sidekiqJobToMessage(e.raw, name, state, e.score))
    }),

  async enqueue(ctx, name, messages, options) {
    encodeSidekiqJobs(name, messages) // throws UsageError before anything is read or sent
    recentReads.delete(ctx)
    const k = keys(ctx)
    const jobs = encodeSidekiqJobs(name, messages, await writeFormat(ctx, name))
    const type = await ctx.client.type(k.queue(name))
    if (type !== 'list' && type !== 'none') throw new NotFoundError(`key "${k.queue(name)}" on ${ctx.displayUrl} is a ${type}, not a Sidekiq queue — enqueue to another name`)
    await ctx.client.sadd(k.queues, name)
    await enqueueInChunks(ctx, jobs, options, async (chunk) => {
      const ready = chunk.filter((j) => j.at === undefined).map((j) => j.json)
      const later = chunk.filter((j) => j.at !== undefined).flatMap((j) => [String(j.at), j.json])
      await Promise.all([
        ready.length > 0 ? ctx.client.lpush(k.queue(name), ...ready) : undefined,
        later.length > 0 ? ctx.client.zadd(k.set('schedule'), ...later) : undefined,
      ])
    }, (j) => j.json.length)
    return jobs.map((j) => j.jid)
  },

  async purge(ctx, name, state) {
    await existing(ctx, name)
    recentReads.delete(ctx)
    const k = keys(ctx)
    if (state === 'waiting') {
      const [[, n]] = ((await ctx.client.multi().llen(k.queue(name)).del(k.queue(name)).exec()) ?? [[null, 0]]) as [[unknown, number]]
      return Number(n ?? 0)
    }
    const set = SET_OF[state]
    if (!set) throw new NotSupportedError(`Sidekiq cannot purge "${state}" jobs — it can purge: ${sidekiqCapabilities.purgeStates.join(', ')}`)
    let removed = 0
    for (const e of await setEntriesOf(ctx, set, name)) removed += await ctx.client.zrem(k.set(set), e.raw)
    return removed
  },

  /** Job#delete (LREM the exact JSON from the queue list) or SortedEntry#delete (ZREM the exact member), per jid. */
  async remove(ctx, name, ids, state) {
    await existing(ctx, name)
    recentReads.delete(ctx)
    const k = keys(ctx)
    const wanted = new Set(ids)
    const jidOf = (raw: Buffer) => sidekiqJobToMessage(raw, name, state).id
    if (state === 'waiting') {
      // read the list in chunks (bounded memory), then LREM each match found
      const found: Buffer[] = []
      const step = 1000
      for (let start = 0; found.length < wanted.size; start += step) {
        const chunk = await ctx.client.lrangeBuffer(k.queue(name), start, start + step - 1)
        for (const raw of chunk) if (wanted.has(jidOf(raw))) found.push(raw)
        if (chunk.length < step) break
      }
      let removed = 0
      for (const raw of found) removed += await ctx.client.lrem(k.queue(name), 1, raw)
      return removed
    }
    const set = SET_OF[state]
    if (!set) throw new NotSupportedError(`Sidekiq cannot delete "${state}" jobs — it can delete: ${sidekiqCapabilities.remove!.states.join(', ')}`)
    let removed = 0
    for (const e of await setEntriesOf(ctx, set, name)) if (wanted.has(jidOf(e.raw))) removed += await ctx.client.zrem(k.set(set), e.raw)
    return removed
  },

  /** SortedEntry#retry for each job of this queue in the retry (default) or dead set; SortedEntry#add_to_queue for scheduled (delayed) ones. */
  async retry(ctx, name, options: RetryOptions) {
    await existing(ctx, name)
    const state = options.state ?? 'retry'
    const set = state === 'retry' || state === 'dead' || state === 'delayed' ? SET_OF[state]! : undefined
    if (!set) throw new NotSupportedError(`Sidekiq retries jobs from the retry or dead set and runs scheduled ones now, not "${state}"`)
    const k = keys(ctx)
    recentReads.delete(ctx)
    const ids = options.ids ? new Set(options.ids) : undefined
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER
    let moved = 0
    const format = await writeFormat(ctx, name)
    for (const e of await setEntriesOf(ctx, set, name)) {
      if (moved >= limit) break
      const raw = e.raw.toString('utf8')
      const msg = sidekiqJobToMessage(e.raw, name, state)
      if (ids && !ids.has(msg.id)) continue
      const next = requeuedJob(raw, format, Date.now(), set !== 'schedule')
      if (!next) continue
      moved += Number(await runScript(ctx.client, REQUEUE, [k.set(set), k.queue(next.queue), k.queues], [e.raw, next.json, next.queue]))
    }
    return moved
  },
}
