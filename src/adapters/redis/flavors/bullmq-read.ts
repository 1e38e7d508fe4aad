// BullMQ's read side with plain read commands (LLEN, ZCARD, LRANGE, ZRANGE, HGET…), never a script:
// BullMQ's getCounts and getRanges scripts may RPOP a v4 marker from the wait list, EVAL is denied
// to a `+@read` ACL user, and granting it would hand that user write power. The answers are the
// scripts' (bullmq 6.7 commands/getCounts-1.lua, getRanges-1.lua), read key by key.
import type {FlavorContext} from '../flavor.js'

/** BullMQ job types queuectl reads: lists hold ids newest-first (LPUSH), zsets by score. */
export type BullmqType = 'wait' | 'paused' | 'prioritized' | 'active' | 'delayed' | 'failed' | 'completed' | 'waiting-children'

const LISTS = new Set<BullmqType>(['wait', 'paused', 'active'])

/** A marker BullMQ 4 left in wait/paused lists (`0:<delay>`): not a job. */
const isMarker = (id: string) => id.startsWith('0:')

/** How many jobs of each type, as Queue.getJobCounts counts them (markers aside). */
export async function readCounts(ctx: FlavorContext, base: string, types: readonly BullmqType[]): Promise<Record<BullmqType, number>> {
  const counts = await Promise.all(
    types.map(async (type) => {
      const key = `${base}:${type}`
      if (!LISTS.has(type)) return ctx.client.zcard(key)
      const [n, last] = await Promise.all([ctx.client.llen(key), type === 'active' ? null : ctx.client.lindex(key, -1)])
      return last !== null && isMarker(last) ? Math.max(0, n - 1) : n
    }),
  )
  return Object.fromEntries(types.map((t, i) => [t, counts[i]])) as Record<BullmqType, number>
}

/** The first `limit` job ids of each type, oldest first, as Queue.getRanges(types, 0, limit - 1, true) gives them. */
export async function readIds(ctx: FlavorContext, base: string, types: readonly BullmqType[], limit: number): Promise<string[]> {
  const lists = await Promise.all(
    types.map(async (type) => {
      const key = `${base}:${type}`
      // one more than asked, in case a marker takes a place
      if (LISTS.has(type)) return (await ctx.client.lrange(key, -(limit + 1), -1)).reverse().filter((id) => !isMarker(id)).slice(0, limit)
      return ctx.client.zrange(key, '0', String(limit - 1))
    }),
  )
  return [...new Set(lists.flat())].slice(0, limit)
}

/** When the oldest waiting job was added (its hash's `timestamp`), if it is a number. */
export async function oldestWaiting(ctx: FlavorContext, base: string): Promise<number | undefined> {
  const [id] = await readIds(ctx, base, ['wait'], 1)
  if (id === undefined) return undefined
  const ts = Number(await ctx.client.hget(`${base}:${id}`, 'timestamp'))
  return Number.isFinite(ts) && ts > 0 ? ts : undefined
}

/** The queue's meta: paused or not, the version that last wrote it, and how many job schedulers it has (`repeat` zset). */
export async function readMeta(ctx: FlavorContext, base: string): Promise<{paused: boolean; version: string | null; schedulers: number}> {
  const [paused, version, schedulers] = await Promise.all([ctx.client.hexists(`${base}:meta`, 'paused'), ctx.client.hget(`${base}:meta`, 'version'), ctx.client.zcard(`${base}:repeat`)])
  return {paused: paused === 1, version, schedulers}
}
