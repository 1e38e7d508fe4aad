// `list`: a plain Redis list as a queue. Producers LPUSH, consumers take from the right with LMOVE
// into a processing list (reliable queue pattern); a lease is a deadline in a sorted set, ack
// removes the item, an expired lease goes back to the list. Helper keys share the list's hash slot:
//   <key>                  the waiting items (LPUSH in, oldest at the right)
//   {<key>}:processing     leased items
//   {<key>}:leases         zset item → lease deadline (ms)
//   {<key>}:dead           dead-lettered items (envelopes with the error)
// Empty lists vanish in Redis, so queues made, fed or consumed by queuectl are also kept in the set
// `queuectl:lists` so that `stats` still finds an empty queue; purging an empty queue drops its name.
import type {MessageState, OutgoingMessage, QueueStats} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError} from '../../../kernel/errors.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {LIST_REGISTRY, listCapabilities, listFinder, listKeysOf as keysOf} from './detect.js'
import {startLoop} from '../consumer.js'
import {defineScript, runScript, type ScriptDef} from '../scripts.js'
import {decodeItem, encodeOutgoing, encodeRequeued, encodeRetried, nthId, numberIds, rawId, rawItem, RawIdCounter, toMessage} from './list-codec.js'
import {enqueueInChunks, leaseMsOf, perTickBatch, perTickPipeline} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {listCapabilities} from './detect.js'

const FETCH: ScriptDef = {
  name: 'queuectlListFetch',
  keys: 3,
  lua: `local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  redis.call('ZADD', KEYS[3], ARGV[2], v)
  out[#out + 1] = v
end
return out`,
}

// KEYS: processing, leases, destination. ARGV: old item, new item (or '' to drop), 'R'|'L' push side.
const SETTLE: ScriptDef = {
  name: 'queuectlListSettle',
  keys: 3,
  lua: `local n = redis.call('LREM', KEYS[1], 1, ARGV[1])
if n == 1 and ARGV[2] ~= '' then
  if ARGV[3] == 'R' then redis.call('RPUSH', KEYS[3], ARGV[2]) else redis.call('LPUSH', KEYS[3], ARGV[2]) end
end
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('ZREM', KEYS[2], ARGV[1]) end
return n`,
}

// KEYS: processing, leases. ARGV: the items of the acks of one tick, each dropped as SETTLE drops one.
const ACK_ALL: ScriptDef = {
  name: 'queuectlListAckAll',
  keys: 2,
  lua: `local n = 0
for i = 1, #ARGV do
  n = n + redis.call('LREM', KEYS[1], 1, ARGV[i])
  if not redis.call('LPOS', KEYS[1], ARGV[i]) then redis.call('ZREM', KEYS[2], ARGV[i]) end
end
return n`,
}

const COUNT_AND_DELETE: ScriptDef = {
  name: 'queuectlCountAndDelete',
  keys: 1,
  lua: `local n = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n`,
}

const counters = new WeakMap<FlavorContext, RawIdCounter>()
function rawIdCounterOf(ctx: FlavorContext): RawIdCounter {
  let counter = counters.get(ctx)
  if (!counter) counters.set(ctx, (counter = new RawIdCounter()))
  return counter
}

/** Names this connection has seen to be lists (or nothing) and pushed to: their enqueues skip the TYPE round trip. */
const knownLists = new WeakMap<FlavorContext, Set<string>>()
function knownListsOf(ctx: FlavorContext): Set<string> {
  let known = knownLists.get(ctx)
  if (!known) knownLists.set(ctx, (known = new Set()))
  return known
}

async function typeOf(ctx: FlavorContext, key: string): Promise<string> {
  return ctx.client.type(key)
}

async function existing(ctx: FlavorContext, name: string): Promise<ReturnType<typeof keysOf>> {
  const probe = await listFlavor.probe(ctx, name)
  if (!probe.exists) {
    if ('wrongType' in probe) {
      throw new NotFoundError(`key "${probe.key}" on ${ctx.displayUrl} is a ${probe.wrongType}, not a list — address the queue by its kind (e.g. stream:${name}) or pick another name`)
    }
    throw new NotFoundError(`list queue "${name}" not found on ${ctx.displayUrl} — run \`queue inspect\` to list the queues`)
  }
  return keysOf(name)
}

export const listFlavor: Flavor = {
  ...listFinder,

  async create(ctx, name) {
    await ctx.client.sadd(LIST_REGISTRY, name)
  },

  async delete(ctx, name) {
    const k = keysOf(name)
    await ctx.client.del(k.main, k.processing, k.leases, k.dead)
    await ctx.client.srem(LIST_REGISTRY, name)
  },

  async stats(ctx, name): Promise<QueueStats> {
    const k = await existing(ctx, name)
    const [waiting, inflight, dead, oldest] = await Promise.all([
      ctx.client.llen(k.main),
      ctx.client.llen(k.processing),
      ctx.client.llen(k.dead),
      ctx.client.lindexBuffer(k.main, -1),
    ])
    const stats: QueueStats = {name, kind: 'list', counts: {waiting, inflight, dead}}
    const at = oldest ? decodeItem(oldest).enqueuedAt : undefined
    if (at !== undefined) stats.oldestAgeMs = Math.max(0, Date.now() - at)
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(
      options,
      async (state) => {
        const k = await existing(ctx, name)
        const key = {waiting: k.main, inflight: k.processing, dead: k.dead}[state as 'waiting']
        if (!key) throw new NotSupportedError(`list queues keep no "${state}" messages — states: ${listCapabilities.states.join(', ')}`)
        return key
      },
      async (key, state, limit) => {
        // oldest first: the right end of the list is served next
        const items = await ctx.client.lrangeBuffer(key, -limit, -1)
        return numberIds(items.reverse().map((raw) => toMessage(name, decodeItem(raw), state, raw)))
      },
    ),

  async enqueue(ctx, name, messages: OutgoingMessage[], options) {
    for (const m of messages) {
      if (m.delayMs) throw new NotSupportedError(`list queues cannot delay messages — use a bullmq: queue for --delay`)
      if (m.priority !== undefined) throw new NotSupportedError(`list queues have no priorities — use a bullmq: queue for --priority`)
    }
    const known = knownListsOf(ctx)
    const wrongType = (type: string) => new NotFoundError(`key "${name}" on ${ctx.displayUrl} is a ${type}, not a list — enqueue to another name`)
    // the TYPE check once per name: after it, a key of another type shows as LPUSH's WRONGTYPE (one round trip a batch, not three)
    if (!known.has(name)) {
      const type = await typeOf(ctx, name)
      if (type !== 'list' && type !== 'none') throw wrongType(type)
    }
    // registered beside the first push, not before it
    const registered = ctx.client.sadd(LIST_REGISTRY, name)
    registered.catch(() => {}) // awaited below; a failed push must not leave it unhandled
    const now = Date.now()
    const items: (Buffer | string)[] = new Array(messages.length)
    const ids: (string | undefined)[] = new Array(messages.length)
    for (let i = 0; i < messages.length; i++) {
      // a raw item's id is its hash, computed below while the item is on its way
      const item = rawItem(messages[i]!)
      if (item !== undefined) {
        items[i] = item
        continue
      }
      const e = encodeOutgoing(messages[i]!, now)
      items[i] = e.item
      ids[i] = e.id
    }
    const wantIds = options.ids !== false
    const counter = rawIdCounterOf(ctx)
    // chunks are sent in order: `at` is where the chunk being sent starts. Two in flight, not four:
    // a 1,000-item LPUSH is one big command, and more of them buffered measured slower (GC)
    let at = 0
    await enqueueInChunks(ctx, items, options, async (chunk) => {
      const start = at
      at += chunk.length
      const pushed = ctx.client.lpush(name, ...chunk)
      // hash the raw items' ids while Redis works on the push, not before it
      if (wantIds) for (let i = start; i < at; i++) ids[i] ??= counter.next(name, rawId(items[i]!))
      await pushed.catch(async (error: unknown) => {
        if (!/WRONGTYPE/.test(String((error as Error)?.message))) throw error
        known.delete(name)
        throw wrongType(await typeOf(ctx, name))
      })
    }, (item) => item.length, 2, true)
    await registered
    known.add(name)
    return wantIds ? (ids as string[]) : []
  },

  async consume(ctx, name, handler, options) {
    // a name that is no queue is refused, not registered: a typo must leave nothing behind
    const k = await existing(ctx, name)
    // registered, so a drained list (its key gone) is still found when the consumer subscribes again
    await ctx.client.sadd(LIST_REGISTRY, name)
    const leaseMs = options.leaseMs ?? leaseMsOf(ctx)
    // settles asked for in the same tick (nacks, dead letters, expired leases) share one write
    defineScript(ctx.client, SETTLE)
    const settleScript = perTickPipeline(ctx.client, (pipe, args: (string | Buffer)[]) => {
      ;(pipe as unknown as Record<string, (...a: (string | Buffer)[]) => unknown>)[SETTLE.name]!(...args)
    })
    const settle = (old: Buffer, next: Buffer | '', dest: string, side: 'R' | 'L') =>
      settleScript([k.processing, k.leases, dest, old, next, side]).then(() => undefined)
    // the acks of one tick as one script call over all their items, not one call each
    const ack = perTickBatch((items: Buffer[]) => runScript(ctx.client, ACK_ALL, [k.processing, k.leases], items))
    return startLoop(handler, options, {
      upkeepMs: Math.max(50, Math.min(1000, Math.floor(leaseMs / 3))),
      upkeep: async () => {
        const expired = await ctx.client.zrangebyscoreBuffer(k.leases, '-inf', Date.now(), 'LIMIT', 0, 100)
        for (const raw of expired) {
          const decoded = decodeItem(raw)
          await settle(raw, encodeRequeued(decoded, decoded.attempts + 1), k.main, 'R')
        }
      },
      fetch: async (n) => {
        const items = (await runScript(ctx.client, FETCH, [k.main, k.processing, k.leases], [n, Date.now() + leaseMs], true)) as Buffer[]
        // the batch is the oldest of the waiting items: numbered as a peek of them showed them
        const all = items.map((raw) => decodeItem(raw))
        const messages = numberIds(items.map((raw, i) => toMessage(name, all[i]!, 'inflight', raw, 1)))
        return items.map((raw, i) => {
          const decoded = all[i]!
          const message = messages[i]!
          return {
            message,
            ops: {
              ack: () => ack(raw),
              nack: async (o) => {
                if (o?.delayMs) throw new NotSupportedError('list queues cannot delay a redelivery — nack without a delay')
                // a plain hand-back (move/export past --limit, a stopped move) puts the item back as it was: raw stays raw for BRPOP programs
                await settle(raw, o?.failed ? encodeRequeued(decoded, message.attempts) : raw, k.main, 'R')
              },
              deadLetter: (reason) => settle(raw, encodeRequeued(decoded, message.attempts, reason), k.dead, 'L'),
              extend: async (ms) => {
                await ctx.client.zadd(k.leases, 'XX', Date.now() + ms, raw)
              },
            },
          }
        })
      },
    })
  },

  async purge(ctx, name, state: MessageState = 'waiting') {
    const k = await existing(ctx, name)
    const key = {waiting: k.main, dead: k.dead}[state as 'waiting']
    if (!key) throw new NotSupportedError(`list queues cannot purge "${state}" messages — they can purge: ${listCapabilities.purgeStates.join(', ')}`)
    const removed = Number(await runScript(ctx.client, COUNT_AND_DELETE, [key], []))
    // purging a queue that was already empty forgets its name: how a typo's queue goes away
    if (removed === 0 && (await ctx.client.exists(k.main, k.processing, k.dead)) === 0) await ctx.client.srem(LIST_REGISTRY, name)
    return removed
  },

  async retry(ctx, name, options) {
    const k = await existing(ctx, name)
    const state = options.state ?? 'dead'
    if (state !== 'dead') throw new NotSupportedError(`list queues retry only dead messages, not "${state}"`)
    const ids = options.ids ? new Set(options.ids) : undefined
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER
    let moved = 0
    const items = await ctx.client.lrangeBuffer(k.dead, 0, -1)
    // ids as peek shows them: equal items numbered oldest first, so an id moves exactly one
    const seen = new Map<string, number>()
    for (const raw of items.reverse()) {
      if (moved >= limit) break
      const decoded = decodeItem(raw)
      const nth = (seen.get(decoded.id) ?? 0) + 1
      seen.set(decoded.id, nth)
      if (ids && !ids.has(nthId(decoded.id, nth))) continue
      const next = encodeRetried(decoded)
      const n = Number(await runScript(ctx.client, SETTLE, [k.dead, k.leases, k.main], [raw, next, 'L']))
      moved += n
    }
    return moved
  },
}
