// `stream`: a Redis Stream read through a consumer group. XADD in; XREADGROUP leases; XACK acks;
// an expired lease is taken over with XAUTOCLAIM; nack makes the entry claimable at once (XCLAIM
// IDLE). Counts come from XINFO GROUPS: waiting = lag, inflight = pending. The group is ?group=
// in the URL, else the stream's only group, else `queuectl` (created at 0 on first consume).
// Dead-lettered entries are copied to the stream {<key>}:dead (same hash slot) and acked.
import {hostname} from 'node:os'
import {randomBytes} from 'node:crypto'
import type {Message, MessageState, QueueStats} from '../../../broker/contract.js'
import {peekWith} from '../../../broker/kit/peek.js'
import {NotFoundError, NotSupportedError, UsageError} from '../../../kernel/errors.js'
import type {RedisClient} from '../connection.js'
import {auxKey, type Flavor, type FlavorContext} from '../flavor.js'
import {startLoop} from '../consumer.js'
import {decodeEntry, fieldsOf, isPlain, type StreamEntry} from './stream-codec.js'
import {streamCapabilities, streamFinder} from './detect.js'
import {enqueueInChunks, leaseMsOf, perTickBatch} from './shared.js'

/** Declared in ./detect.ts (the table needs it before this module loads). */
export {streamCapabilities} from './detect.js'

const DEFAULT_GROUP = 'queuectl'
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000

interface GroupInfo {
  name: string
  consumers: number
  pending: number
  lastDeliveredId: string
  lag: number | null
}

async function groupsOf(ctx: FlavorContext, key: string): Promise<GroupInfo[]> {
  const rows = (await ctx.client.call('XINFO', 'GROUPS', key)) as unknown[][]
  return rows.map((row) => {
    const m = new Map<string, unknown>()
    for (let i = 0; i + 1 < row.length; i += 2) m.set(String(row[i]), row[i + 1])
    const lag = m.get('lag')
    return {
      name: String(m.get('name')),
      consumers: Number(m.get('consumers')),
      pending: Number(m.get('pending')),
      lastDeliveredId: String(m.get('last-delivered-id')),
      lag: lag === null || lag === undefined ? null : Number(lag),
    }
  })
}

/** The group to use: ?group=, else `queuectl` if present, else the only group; undefined when none exist. */
function pickGroup(ctx: FlavorContext, key: string, groups: GroupInfo[], strict: boolean): GroupInfo | string | undefined {
  const wanted = ctx.params.get('group')
  if (wanted) return groups.find((g) => g.name === wanted) ?? wanted
  const ours = groups.find((g) => g.name === DEFAULT_GROUP)
  if (ours) return ours
  if (groups.length === 1) return groups[0]
  if (groups.length === 0) return undefined
  if (strict) throw new UsageError(`stream "${key}" has several consumer groups (${groups.map((g) => g.name).join(', ')}) — pick one with ?group=NAME in the URL`)
  return groups[0]
}

/** Entries after `afterId` (exclusive), counted in pages: the fallback when XINFO has no lag. */
async function countAfter(ctx: FlavorContext, key: string, afterId: string): Promise<number> {
  let n = 0
  let start = `(${afterId}`
  for (;;) {
    const page = (await ctx.client.call('XRANGE', key, start, '+', 'COUNT', 1000)) as [string, unknown][]
    n += page.length
    if (page.length < 1000) return n
    start = `(${page[page.length - 1]![0]}`
  }
}

async function existingStream(ctx: FlavorContext, name: string): Promise<void> {
  const probe = await streamFlavor.probe(ctx, name)
  if (probe.exists) return
  if ('wrongType' in probe) {
    throw new NotFoundError(`key "${probe.key}" on ${ctx.displayUrl} is a ${probe.wrongType}, not a stream — address the queue by its kind (e.g. list:${name}) or pick another name`)
  }
  throw new NotFoundError(`stream "${name}" not found on ${ctx.displayUrl} — run \`queue inspect\` to list the queues`)
}

async function ensureGroup(ctx: FlavorContext, key: string, group: string): Promise<void> {
  try {
    await ctx.client.call('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM')
  } catch (error) {
    if (!/BUSYGROUP/.test(String((error as Error).message))) throw error
  }
}

/** XREADGROUP's entries for our one stream: [[key, entries]] in RESP2, [key, entries] from some ioredis versions. */
function streamEntries(reply: unknown[] | null): StreamEntry[] {
  if (!reply || reply.length === 0) return []
  if (Buffer.isBuffer(reply[0]) || typeof reply[0] === 'string') return (reply[1] as StreamEntry[]) ?? []
  return ((reply[0] as [unknown, StreamEntry[]])[1] as StreamEntry[]) ?? []
}

/**
 * Keeps an entry's lease for `ms`: XAUTOCLAIM measures leases by idle time, which XCLAIM can only
 * reset to now (never into the future), so `reset` runs now and every `everyMs` until `ms` is up.
 */
function idleRenewer(reset: () => Promise<unknown>, leaseMs: number, everyMs: number) {
  let timer: NodeJS.Timeout | undefined
  const stop = () => clearInterval(timer)
  const extend = async (ms: number) => {
    stop()
    await reset()
    const until = Date.now() + ms
    if (ms <= leaseMs) return
    timer = setInterval(() => {
      if (Date.now() + leaseMs >= until) stop()
      reset().catch(stop)
    }, everyMs)
    timer.unref()
  }
  return {stop, extend}
}

/** An entry's fields without those a dead letter sets anew (error, attempts, origin). */
function carriedFields(entry: StreamEntry): (string | Buffer)[] {
  const fields: (string | Buffer)[] = []
  const list = entry[1] ?? []
  for (let i = 0; i + 1 < list.length; i += 2) {
    const f = list[i]!.toString()
    if (f !== 'error' && f !== 'attempts' && f !== 'origin') fields.push(f, list[i + 1]!)
  }
  return fields
}

/** How many times each claimed entry was delivered (XPENDING, one pipeline); 2 where Redis does not say. */
async function deliveriesOf(ctx: FlavorContext, name: string, group: string, entries: StreamEntry[]): Promise<number[]> {
  if (entries.length === 0) return []
  const pipe = ctx.client.pipeline()
  for (const e of entries) pipe.call('XPENDING', name, group, e[0].toString(), e[0].toString(), 1)
  const counts = (await pipe.exec()) ?? []
  return entries.map((_, i) => {
    const row = (counts[i]?.[1] as [string, string, number, number][] | undefined)?.[0]
    return Number(row?.[3] ?? 2)
  })
}

/** Longest a consumer's XREADGROUP waits in Redis for new entries (close() waits for it at most this long without CLIENT UNBLOCK). */
const BLOCK_MS = 100

/**
 * New entries for one group consumer, as a raw consumer reads them: XREADGROUP BLOCK on a
 * connection of its own, so an entry added while the stream is empty is handed out at once (no
 * poll, no sleep), a read with entries waiting returns at once, and acks, claims and the producer's
 * writes never queue behind it on the command connection (before, reads went there while entries
 * flowed, and an empty one cost a round trip and a 1 ms sleep before the blocking read).
 * interrupt() ends a read waiting in Redis with CLIENT UNBLOCK (as if it timed out: nothing is
 * delivered, so nothing is stranded in the pending list), so a closing consumer does not wait out
 * the rest of BLOCK_MS (`queue work --until-empty` ended up to 100 ms late).
 */
function groupReader(ctx: FlavorContext, name: string, group: string, consumer: string) {
  let blocking: Promise<{client: RedisClient; id: number | undefined}> | undefined
  let stopped = false
  let waiting = false
  const blocker = () =>
    (blocking ??= ctx.duplicate().then(
      // a user without CLIENT rights (ACL) gets no id: its close waits the read out, as before
      async (client) => ({client, id: ctx.cluster ? undefined : await client.call('CLIENT', 'ID').then(Number, () => undefined)}),
      (error: unknown) => {
        blocking = undefined // made again at the next blocking read (the connection may be back)
        throw error
      },
    ))
  return {
    async read(count: number, block: boolean): Promise<StreamEntry[]> {
      const {client} = await blocker()
      // once interrupted, no read waits any more
      const wait = block && !stopped ? ['BLOCK', BLOCK_MS] : []
      waiting = wait.length > 0
      try {
        return streamEntries((await client.callBuffer('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, ...wait, 'STREAMS', name, '>')) as unknown[] | null)
      } finally {
        waiting = false
      }
    },
    interrupt(): void {
      stopped = true
      if (!waiting) return
      // on the command connection (the same server; a Cluster's node is not known here: it waits)
      void blocking?.then(({id}) => (id !== undefined && waiting ? ctx.client.call('CLIENT', 'UNBLOCK', id) : undefined)).catch(() => {})
    },
    dispose(): void {
      void blocking?.then(({client}) => client.disconnect(), () => {})
    },
  }
}

/** Names this connection has seen to be streams (or nothing) and added to: their enqueues skip the TYPE round trip. */
const knownStreams = new WeakMap<FlavorContext, Set<string>>()
function knownStreamsOf(ctx: FlavorContext): Set<string> {
  let known = knownStreams.get(ctx)
  if (!known) knownStreams.set(ctx, (known = new Set()))
  return known
}

export const streamFlavor: Flavor = {
  ...streamFinder,

  async create(ctx, name) {
    await ensureGroup(ctx, name, ctx.params.get('group') ?? DEFAULT_GROUP)
  },

  async delete(ctx, name) {
    await ctx.client.del(name, auxKey(name, 'dead'))
  },

  async stats(ctx, name): Promise<QueueStats> {
    await existingStream(ctx, name)
    const [length, groups, dead] = await Promise.all([ctx.client.xlen(name), groupsOf(ctx, name), ctx.client.xlen(auxKey(name, 'dead'))])
    const picked = pickGroup(ctx, name, groups, false)
    const group = typeof picked === 'object' ? picked : undefined
    let waiting = length
    let after = '0-0'
    if (group) {
      waiting = group.lag ?? (await countAfter(ctx, name, group.lastDeliveredId))
      after = group.lastDeliveredId
    }
    const stats: QueueStats = {
      name,
      kind: 'stream',
      counts: {waiting, inflight: group?.pending ?? 0, dead},
      consumers: group?.consumers ?? 0,
      details: {length, group: group?.name ?? (typeof picked === 'string' ? picked : null), groups},
    }
    const next = (await ctx.client.call('XRANGE', name, `(${after}`, '+', 'COUNT', 1)) as [string, unknown][]
    if (next.length > 0) stats.oldestAgeMs = Math.max(0, Date.now() - Number(next[0]![0].split('-')[0]))
    return stats
  },

  peek: (ctx, name, options) =>
    peekWith(options, () => existingStream(ctx, name), async (_, state, limit) => {
      if (state === 'dead') {
        const rows = (await ctx.client.callBuffer('XRANGE', auxKey(name, 'dead'), '-', '+', 'COUNT', limit)) as StreamEntry[]
        return rows.map((e) => decodeEntry(name, e, 'dead', 0))
      }
      const picked = pickGroup(ctx, name, await groupsOf(ctx, name), false)
      const group = typeof picked === 'object' ? picked : undefined
      if (state === 'waiting') {
        const rows = (await ctx.client.callBuffer('XRANGE', name, `(${group?.lastDeliveredId ?? '0-0'}`, '+', 'COUNT', limit)) as StreamEntry[]
        return rows.map((e) => decodeEntry(name, e, 'waiting', 0))
      }
      if (state === 'inflight') {
        if (!group) return []
        const pending = (await ctx.client.call('XPENDING', name, group.name, '-', '+', limit)) as [string, string, number, number][]
        const out: Message[] = []
        for (const [id, , , deliveries] of pending) {
          const rows = (await ctx.client.callBuffer('XRANGE', name, id, id)) as StreamEntry[]
          if (rows[0]) out.push(decodeEntry(name, rows[0], 'inflight', Number(deliveries)))
        }
        return out
      }
      throw new NotSupportedError(`streams keep no "${state}" messages — states: ${streamCapabilities.states.join(', ')}`)
    }),

  async enqueue(ctx, name, messages, options) {
    for (const m of messages) {
      if (m.delayMs) throw new NotSupportedError('streams cannot delay messages — use a bullmq: queue for --delay')
      if (m.priority !== undefined) throw new NotSupportedError('streams have no priorities — use a bullmq: queue for --priority')
    }
    const known = knownStreamsOf(ctx)
    const wrongType = (type: string) => new NotFoundError(`key "${name}" on ${ctx.displayUrl} is a ${type}, not a stream — enqueue to another name`)
    // the TYPE check once per name: after it, a key of another type shows as XADD's WRONGTYPE (one round trip a batch, not two)
    if (!known.has(name)) {
      const type = await ctx.client.type(name)
      if (type !== 'stream' && type !== 'none') throw wrongType(type)
    }
    const wantIds = options.ids !== false
    // several chunks in flight on one connection: Redis applies them in order, so XADD ids stay ordered
    const byChunk = await enqueueInChunks(ctx, messages, options, async (chunk) => {
      const pipe = ctx.client.pipeline()
      for (const m of chunk) {
        // the common case without an array per message
        if (isPlain(m)) pipe.call('XADD', name, '*', 'payload', m.payload)
        else pipe.call('XADD', name, '*', ...fieldsOf(m))
      }
      const results = (await pipe.exec()) ?? []
      const failed = results.find(([error]) => error)
      if (failed && /WRONGTYPE/.test(String(failed[0]))) {
        known.delete(name)
        throw wrongType(await ctx.client.type(name))
      }
      if (failed) throw failed[0]
      return wantIds ? results.map(([, id]) => String(id)) : []
    }, (m) => m.payload.length)
    known.add(name)
    return byChunk.flat()
  },

  async consume(ctx, name, handler, options) {
    const type = await ctx.client.type(name)
    if (type !== 'stream' && type !== 'none') throw new NotFoundError(`key "${name}" on ${ctx.displayUrl} is a ${type}, not a stream`)
    const existingGroups = type === 'stream' ? await groupsOf(ctx, name) : []
    const picked = pickGroup(ctx, name, existingGroups, true)
    const group = typeof picked === 'object' ? picked.name : (picked ?? DEFAULT_GROUP)
    await ensureGroup(ctx, name, group)
    const consumer = `queuectl-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    const leaseMs = options.leaseMs ?? leaseMsOf(ctx)
    const claimEveryMs = Math.max(50, Math.min(1000, Math.floor(leaseMs / 3)))
    let lastClaim = 0
    let cursor = '0-0'
    const reader = groupReader(ctx, name, group, consumer)
    const dead = auxKey(name, 'dead')
    // the acks of one tick as one XACK of all their ids (as a raw consumer acks a batch)
    const xack = perTickBatch((ids: string[]) => ctx.client.call('XACK', name, group, ...ids))

    const lease = (entry: StreamEntry, attempts: number) => {
      const message = decodeEntry(name, entry, 'inflight', attempts)
      const id = message.id
      const renewer = idleRenewer(() => ctx.client.call('XCLAIM', name, group, consumer, 0, id, 'JUSTID'), leaseMs, claimEveryMs)
      const stopRenewing = renewer.stop
      return {
        message,
        ops: {
          ack: async () => {
            stopRenewing()
            await xack(id)
          },
          nack: async (o?: {delayMs?: number}) => {
            if (o?.delayMs) throw new NotSupportedError('streams cannot delay a redelivery — nack without a delay')
            stopRenewing()
            // make it look long idle so the next XAUTOCLAIM (ours or another consumer's) takes it
            await ctx.client.call('XCLAIM', name, group, consumer, 0, id, 'IDLE', ONE_YEAR_MS, 'JUSTID')
            lastClaim = 0
          },
          deadLetter: async (reason: string) => {
            stopRenewing()
            await ctx.client
              .multi()
              .call('XADD', dead, '*', ...carriedFields(entry), 'error', reason, 'attempts', String(attempts), 'origin', id)
              .call('XACK', name, group, id)
              .exec()
          },
          extend: renewer.extend,
        },
      }
    }

    return startLoop(handler, options, {
      fetch: async (n) => {
        const out: ReturnType<typeof lease>[] = []
        if (Date.now() - lastClaim >= claimEveryMs) {
          lastClaim = Date.now()
          const [next, entries] = (await ctx.client.callBuffer('XAUTOCLAIM', name, group, consumer, leaseMs, cursor, 'COUNT', n)) as [Buffer, StreamEntry[]]
          cursor = next.toString()
          const counts = await deliveriesOf(ctx, name, group, entries)
          entries.forEach((e, i) => {
            if (e[1]) out.push(lease(e, counts[i]!))
          })
        }
        const room = n - out.length
        // with claimed entries in hand, no wait: they are handed out now
        if (room > 0) for (const e of await reader.read(room, out.length === 0)) out.push(lease(e, 1))
        return out
      },
      // the blocking read is the idle wait: no sleep after it
      maxIdleMs: 1,
      interrupt: () => reader.interrupt(),
      dispose: async () => {
        reader.dispose()
        // forget this consumer when it holds nothing, so XINFO does not fill with dead consumers
        const [pending] = (await ctx.client.call('XPENDING', name, group, '-', '+', 1, consumer)) as unknown[]
        if (!pending) await ctx.client.call('XGROUP', 'DELCONSUMER', name, group, consumer)
      },
    })
  },

  async purge(ctx, name, state: MessageState = 'waiting') {
    await existingStream(ctx, name)
    if (state === 'dead') {
      const key = auxKey(name, 'dead')
      const n = await ctx.client.xlen(key)
      await ctx.client.del(key)
      return n
    }
    if (state !== 'waiting') throw new NotSupportedError(`streams cannot purge "${state}" messages — they can purge: ${streamCapabilities.purgeStates.join(', ')}`)
    const picked = pickGroup(ctx, name, await groupsOf(ctx, name), false)
    const group = typeof picked === 'object' ? picked : undefined
    let removed = 0
    const start = group ? `(${group.lastDeliveredId}` : '-'
    for (;;) {
      const page = (await ctx.client.call('XRANGE', name, start, '+', 'COUNT', 1000)) as [string, unknown][]
      if (page.length === 0) return removed
      removed += Number(await ctx.client.call('XDEL', name, ...page.map((e) => e[0])))
    }
  },
}
