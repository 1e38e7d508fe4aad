// `asynq`: asynq (Go) queues, laid out as asynq's internal/base/base.go and internal/rdb describe:
//   asynq:queues                  set of queue names
//   asynq:{q}:pending / :active   lists of task ids (LPUSH in, RPOPLPUSH out: oldest at the right)
//   asynq:{q}:scheduled / :retry  zsets of ids, score = when due (unix seconds)
//   asynq:{q}:archived            zset, score = when it died; :completed, score = when it expires
//   asynq:{q}:t:<id>              hash: msg (protobuf TaskMessage, ./asynq-proto.ts), state, pending_since (ns)
//   asynq:{q}:paused              present while the queue is paused (value: unix time)
//   asynq:{q}:processed[:YYYY-MM-DD], asynq:{q}:failed[:YYYY-MM-DD]   counters
// {q} is a Cluster hash tag, so every per-queue key of one call shares a slot. No asynq package
// is installed here: the writes below follow asynq's own Lua scripts (enqueueCmd, scheduleCmd,
// runAllCmd) and the messages are built to asynq.proto.
import {randomUUID} from 'node:crypto'
import type {Message, MessageState, QueueStats, RetryOptions} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError, UsageError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {runScript, type ScriptDef} from '../scripts.js'
import {decodeAsynqTask, encodeAsynqTask} from './asynq-proto.js'
import {ASYNQ_QUEUES, asynqCapabilities, asynqFinder} from './detect.js'
import {enqueueInChunks} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {asynqCapabilities} from './detect.js'

const QUEUES = ASYNQ_QUEUES
/** asynq's defaults when a task sets neither timeout nor deadline (client.go). */
const DEFAULT_MAX_RETRY = 25
const DEFAULT_TIMEOUT_S = 30 * 60

const k = (q: string) => {
  const p = `asynq:{${q}}:`
  return {
    prefix: p,
    task: (id: string) => `${p}t:${id}`,
    pending: `${p}pending`,
    active: `${p}active`,
    scheduled: `${p}scheduled`,
    retry: `${p}retry`,
    archived: `${p}archived`,
    completed: `${p}completed`,
    paused: `${p}paused`,
  }
}

const ZSET_OF: Partial<Record<MessageState, 'scheduled' | 'retry' | 'archived' | 'completed'>> = {delayed: 'scheduled', retry: 'retry', dead: 'archived', completed: 'completed'}

// runTaskCmd for one id. KEYS: the zset, pending, task hash. ARGV: id, pending_since (ns).
const RUN: ScriptDef = {
  name: 'queuectlAsynqRun',
  keys: 3,
  lua: `if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'state', 'pending', 'pending_since', ARGV[2])
return 1`,
}

// Deletes every task of a list or zset and their hashes. KEYS: the list/zset. ARGV: task key prefix, 'L'|'Z'.
const DELETE_ALL: ScriptDef = {
  name: 'queuectlAsynqDeleteAll',
  keys: 1,
  lua: `local ids
if ARGV[2] == 'L' then ids = redis.call('LRANGE', KEYS[1], 0, -1) else ids = redis.call('ZRANGE', KEYS[1], 0, -1) end
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[1])
return #ids`,
}

/** The task hash's `state` field for each state a task can be deleted from. */
const HASH_STATE: Partial<Record<MessageState, string>> = {waiting: 'pending', delayed: 'scheduled', retry: 'retry', dead: 'archived', completed: 'completed'}

// One task deleted as asynq's deleteTaskCmd does (rdb.go), but only from the state asked: its id
// out of its list or zset, its unique lock if it still holds it, its hash. An active task is left
// to its server (-1), a task in another state or gone is skipped (0).
// KEYS: task hash, its list or zset. ARGV: id, the hash state expected, 'L'|'Z'.
const DELETE_ONE: ScriptDef = {
  name: 'queuectlAsynqDelete',
  keys: 2,
  lua: `local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
if state == 'active' then return -1 end
if state ~= ARGV[2] then return 0 end
local n
if ARGV[3] == 'L' then n = redis.call('LREM', KEYS[2], 0, ARGV[1]) else n = redis.call('ZREM', KEYS[2], ARGV[1]) end
if n == 0 then return 0 end
local unique = redis.call('HGET', KEYS[1], 'unique_key')
if unique and unique ~= '' and redis.call('GET', unique) == ARGV[1] then redis.call('DEL', unique) end
redis.call('DEL', KEYS[1])
return 1`,
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/**
 * A task's options from the headers a peek shows them as (retry, retried, timeout, deadline,
 * uniqueKey), so export | import and move keep MaxRetry, Timeout and Deadline instead of writing
 * them into the task's headers; the defaults are asynq's client's. Other headers stay headers.
 */
export function taskOptionsOf(headers: Record<string, string> | undefined): {retry: number; timeout: number; deadline: number; headers: Record<string, string>} {
  const rest: Record<string, string> = {}
  let retry = DEFAULT_MAX_RETRY
  let timeout: number | undefined
  let deadline = 0
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key === 'retry' && /^\d+$/.test(value)) retry = Number(value)
    else if (key === 'timeout' && /^\d+s$/.test(value)) timeout = Number(value.slice(0, -1))
    else if (key === 'deadline' && ISO_TIME.test(value)) deadline = Math.floor(Date.parse(value) / 1000)
    // a new task has not run yet, and queuectl takes no unique lock for it
    else if ((key === 'retried' && /^\d+$/.test(value)) || (key === 'uniqueKey' && value.startsWith('asynq:{'))) continue
    else rest[key] = value
  }
  // asynq's client: without a deadline or a timeout a task gets the default timeout
  return {retry, timeout: timeout ?? (deadline ? 0 : DEFAULT_TIMEOUT_S), deadline, headers: rest}
}

const nowNs = () => (BigInt(Date.now()) * 1_000_000n).toString()
const utcDay = () => new Date().toISOString().slice(0, 10)

async function existing(ctx: FlavorContext, name: string): Promise<void> {
  if ((await asynqFlavor.probe(ctx, name)).exists) return
  throw new NotFoundError(`asynq queue "${name}" not found on ${ctx.displayUrl} (not in ${QUEUES}) — run \`queue inspect\` to list the queues`)
}

function toMessage(name: string, state: MessageState, id: string, hash: Record<string, Buffer>, score?: number): Message {
  const message: Message = {id, queue: name, payload: Buffer.alloc(0), headers: {}, attempts: 0, state}
  const msg = hash.msg
  if (!msg) {
    message.undecodable = `the task hash asynq:{${name}}:t:${id} has no msg (expired or deleted)`
    return message
  }
  if (score !== undefined && (state === 'delayed' || state === 'retry')) message.availableAt = score * 1000
  const since = hash.pending_since?.toString()
  if (since && /^\d+$/.test(since)) message.enqueuedAt = Number(BigInt(since) / 1_000_000n)
  let task
  try {
    task = decodeAsynqTask(msg)
  } catch (error) {
    message.payload = msg
    message.undecodable = `asynq task message is not a valid TaskMessage protobuf: ${(error as Error).message}`
    message.raw = {state: hash.state?.toString(), msgBase64: msg.toString('base64')}
    return message
  }
  message.id = task.id || id
  message.name = task.type
  message.payload = task.payload
  // asynq payloads are bytes; most applications put JSON there
  try {
    message.body = JSON.parse(task.payload.toString('utf8'))
    message.contentType = 'application/json'
  } catch {
    // not JSON: shown as bytes
  }
  message.attempts = task.retried + (state === 'inflight' ? 1 : 0)
  if (task.errorMsg) message.lastError = task.errorMsg
  message.headers = {...task.headers, retry: String(task.retry), retried: String(task.retried)}
  if (task.timeout) message.headers.timeout = `${task.timeout}s`
  if (task.deadline) message.headers.deadline = new Date(task.deadline * 1000).toISOString()
  if (task.uniqueKey) message.headers.uniqueKey = task.uniqueKey
  if (task.groupKey) message.headers.group = task.groupKey
  message.raw = {state: hash.state?.toString(), ...task, payload: task.payload.toString('base64')}
  return message
}

async function messagesOf(ctx: FlavorContext, name: string, state: MessageState, ids: {id: string; score?: number}[]): Promise<Message[]> {
  if (ids.length === 0) return []
  const pipe = ctx.client.pipeline()
  for (const {id} of ids) pipe.hgetallBuffer(k(name).task(id))
  const results = (await pipe.exec()) ?? []
  return ids.map(({id, score}, i) => toMessage(name, state, id, (results[i]?.[1] ?? {}) as Record<string, Buffer>, score))
}

export const asynqFlavor: Flavor = {
  ...asynqFinder,

  async create(ctx, name) {
    await ctx.client.sadd(QUEUES, name)
  },

  async stats(ctx, name): Promise<QueueStats> {
    await existing(ctx, name)
    const q = k(name)
    const day = utcDay()
    const [pending, active, scheduled, retry, archived, completed, paused, processedToday, failedToday, processed, failed, oldestId] = await Promise.all([
      ctx.client.llen(q.pending),
      ctx.client.llen(q.active),
      ctx.client.zcard(q.scheduled),
      ctx.client.zcard(q.retry),
      ctx.client.zcard(q.archived),
      ctx.client.zcard(q.completed),
      ctx.client.exists(q.paused),
      ctx.client.get(`${q.prefix}processed:${day}`),
      ctx.client.get(`${q.prefix}failed:${day}`),
      ctx.client.get(`${q.prefix}processed`),
      ctx.client.get(`${q.prefix}failed`),
      ctx.client.lindex(q.pending, -1),
    ])
    const stats: QueueStats = {
      name,
      kind: 'asynq',
      counts: {waiting: pending, inflight: active, delayed: scheduled, retry, dead: archived, completed},
      paused: paused > 0,
      details: {
        processedToday: Number(processedToday ?? 0),
        failedToday: Number(failedToday ?? 0),
        ...(processed === null ? {} : {processed: Number(processed)}),
        ...(failed === null ? {} : {failed: Number(failed)}),
      },
    }
    if (oldestId) {
      const since = await ctx.client.hget(q.task(oldestId), 'pending_since')
      if (since && /^\d+$/.test(since)) stats.oldestAgeMs = Math.max(0, Date.now() - Number(BigInt(since) / 1_000_000n))
    }
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(options, () => existing(ctx, name), async (_, state, limit) => {
      const q = k(name)
      if (state === 'waiting' || state === 'inflight') {
        const ids = await ctx.client.lrange(state === 'waiting' ? q.pending : q.active, -limit, -1)
        return messagesOf(ctx, name, state, ids.reverse().map((id) => ({id})))
      }
      const zset = ZSET_OF[state]
      if (!zset) throw new NotSupportedError(`asynq keeps no "${state}" tasks — states: ${asynqCapabilities.states.join(', ')}`)
      const flat = await ctx.client.zrange(q[zset], '0', String(limit - 1), 'WITHSCORES')
      const ids: {id: string; score: number}[] = []
      for (let i = 0; i + 1 < flat.length; i += 2) ids.push({id: flat[i]!, score: Number(flat[i + 1])})
      return messagesOf(ctx, name, state, ids)
    }),

  async enqueue(ctx, name, messages, options) {
    const now = Date.now()
    const tasks = messages.map((m, i) => {
      const which = messages.length > 1 ? `message ${i + 1}: ` : ''
      if (!m.name) throw new UsageError(`${which}an asynq task needs its type — add --name (e.g. --name email:deliver)`)
      if (m.priority !== undefined) throw new UsageError(`${which}asynq has no per-task priorities (queues have weights) — send without --priority`)
      if (m.dedupId !== undefined) throw new UsageError(`${which}queuectl does not take asynq unique locks — drop --dedup-id`)
      const id = randomUUID()
      const msg = encodeAsynqTask({type: m.name, payload: typeof m.payload === 'string' ? Buffer.from(m.payload, 'utf8') : m.payload, id, queue: name, ...taskOptionsOf(m.headers)})
      return {id, msg, at: m.delayMs && m.delayMs > 0 ? Math.floor((now + m.delayMs) / 1000) : undefined}
    })
    const q = k(name)
    await ctx.client.sadd(QUEUES, name)
    await enqueueInChunks(ctx, tasks, options, async (chunk) => {
      // what enqueueCmd / scheduleCmd write; ids are fresh UUIDs, so their EXISTS guard is moot.
      // Every key carries the {queue} hash tag: one MULTI is atomic on a Cluster too.
      const tx = ctx.client.multi()
      for (const t of chunk) {
        if (t.at === undefined) {
          tx.hset(q.task(t.id), 'msg', t.msg, 'state', 'pending', 'pending_since', nowNs())
          tx.lpush(q.pending, t.id)
        } else {
          tx.hset(q.task(t.id), 'msg', t.msg, 'state', 'scheduled')
          tx.zadd(q.scheduled, t.at, t.id)
        }
      }
      const results = (await tx.exec()) ?? []
      const failed = results.find(([error]) => error)
      if (failed) throw failed[0]
    }, (t) => t.msg.length)
    return tasks.map((t) => t.id)
  },

  async purge(ctx, name, state) {
    await existing(ctx, name)
    const q = k(name)
    if (state === 'waiting') return Number(await runScript(ctx.client, DELETE_ALL, [q.pending], [`${q.prefix}t:`, 'L']))
    const zset = ZSET_OF[state]
    if (!zset) throw new NotSupportedError(`asynq cannot purge "${state}" tasks — it can purge: ${asynqCapabilities.purgeStates.join(', ')}`)
    return Number(await runScript(ctx.client, DELETE_ALL, [q[zset]], [`${q.prefix}t:`, 'Z']))
  },

  /** asynq's `run`: retry (default) or archived tasks back to pending. */
  async retry(ctx, name, options: RetryOptions) {
    await existing(ctx, name)
    const state = options.state ?? 'retry'
    if (state !== 'retry' && state !== 'dead') throw new NotSupportedError(`asynq runs again tasks from retry or archived (dead), not "${state}"`)
    const q = k(name)
    const zset = q[ZSET_OF[state]!]
    const ids = options.ids ?? (await ctx.client.zrange(zset, '0', '-1'))
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER
    let moved = 0
    for (const id of ids) {
      if (moved >= limit) break
      moved += Number(await runScript(ctx.client, RUN, [zset, q.pending, q.task(id)], [id, nowNs()]))
    }
    return moved
  },

  /** asynq's DeleteTask for each id, from `state` only; active tasks stay with their server, as asynq refuses them. */
  async remove(ctx, name, ids, state) {
    await existing(ctx, name)
    const hashState = HASH_STATE[state]
    if (!hashState) throw new NotSupportedError(`asynq does not delete ${state === 'inflight' ? 'active tasks (a server is running them; cancel them with asynq\'s CancelProcessing)' : `"${state}" tasks`} — it deletes from: ${asynqCapabilities.remove!.states.join(', ')}`)
    const q = k(name)
    const container = state === 'waiting' ? q.pending : q[ZSET_OF[state]!]
    let removed = 0
    for (const id of ids) removed += Math.max(0, Number(await runScript(ctx.client, DELETE_ONE, [q.task(id), container], [id, hashState, state === 'waiting' ? 'L' : 'Z'])))
    return removed
  },

  async pause(ctx, name) {
    await existing(ctx, name)
    await ctx.client.set(k(name).paused, String(Math.floor(Date.now() / 1000)), 'NX')
  },

  async resume(ctx, name) {
    await existing(ctx, name)
    await ctx.client.del(k(name).paused)
  },
}
