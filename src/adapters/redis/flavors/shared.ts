// Helpers the flavors share: chunked batch writes that can say how many made it, calls coalesced
// per tick, lease length, registry sets of another type, Bull/BullMQ queue names.
import type {EnqueueOptions} from '../../../broker/contract.js'
import {chunkBySize} from '../../../broker/kit/chunk.js'
import {EnqueueError, InterruptedError, UsageError, isTransient, isUserError} from '../../../kernel/errors.js'
import {connectionError, type RedisClient} from '../connection.js'
import type {FlavorContext} from '../flavor.js'

/** One round trip each: at most 1,000 items / 4 MiB. */
const CHUNK_LIMITS = {maxItems: 1000, maxBytes: 4 * 1024 * 1024}

/**
 * Sends items chunk by chunk, keeping a few chunks in flight (pipelined on one connection), and
 * counts only confirmed chunks: if Redis goes away, EnqueueError says exactly how many were sent.
 * Returns what `send` returned for each chunk, in chunk order (the ids it added, say).
 * `writesAtCall`: `send` issues its command before its first await, so EnqueueOptions.onWritten
 * is told once the last chunk's is issued (the caller may then pipeline its next enqueue).
 */
export async function enqueueInChunks<T, R>(
  ctx: FlavorContext,
  items: T[],
  options: EnqueueOptions,
  send: (chunk: T[]) => Promise<R>,
  size: (item: T) => number = (item) => (Buffer.isBuffer(item) ? item.length : 256),
  inFlight = 4,
  writesAtCall = false,
): Promise<R[]> {
  const chunks = chunkBySize(items, size, CHUNK_LIMITS)
  const results: R[] = new Array(chunks.length)
  let sent = 0
  let next = 0
  let failure: unknown
  const confirmed: boolean[] = new Array(chunks.length).fill(false)
  let contiguous = 0
  const worker = async () => {
    while (failure === undefined && next < chunks.length) {
      if (options.signal?.aborted) {
        failure ??= new InterruptedError()
        return
      }
      const i = next++
      try {
        const result = send(chunks[i]!)
        // `send` writes its command before its first await: after the last, this call's writes are all out, in order
        if (writesAtCall && i === chunks.length - 1) options.onWritten?.()
        results[i] = await result
        confirmed[i] = true
        // report progress only for the confirmed prefix, so the count never overstates
        while (contiguous < chunks.length && confirmed[contiguous]) sent += chunks[contiguous++]!.length
        options.onProgress?.(sent)
      } catch (error) {
        failure ??= error
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(inFlight, chunks.length)}, worker))
  if (failure === undefined) return results
  // chunks confirmed after a gap were written too: count them all
  const total = chunks.reduce((n, c, i) => n + (confirmed[i] ? c.length : 0), 0)
  const cause = isUserError(failure) ? failure : connectionError(failure, ctx.displayUrl, ctx.target.username)
  // which items were not confirmed (a chunk whose reply was lost may be stored all the same)
  const pending: number[] = []
  let at = 0
  chunks.forEach((c, i) => {
    if (!confirmed[i]) for (let k = 0; k < c.length; k++) pending.push(at + k)
    at += c.length
  })
  throw new EnqueueError(
    `enqueue stopped after ${total} of ${items.length} messages: ${cause.message} — the other ${items.length - total} were NOT sent`,
    total,
    cause.exitCode,
    {pending, transient: isTransient(cause)},
  )
}

/** A Bull or BullMQ job's weight in a chunk: its data's length when that is a string. */
export const jobDataSize = (job: {data: unknown}) => (typeof job.data === 'string' ? job.data.length : 256)

/** A URL parameter in milliseconds (a positive whole number), or `fallback` when absent. */
export function msParamOf(ctx: FlavorContext, key: string, fallback: number): number {
  const raw = ctx.params.get(key)
  if (raw === null) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${key}=${raw} in the Redis URL must be a positive number of milliseconds`)
  return n
}

export const leaseMsOf = (ctx: FlavorContext): number => msParamOf(ctx, 'leaseMs', 30_000)

export type Pipe = ReturnType<RedisClient['pipeline']>

/**
 * Coalesces the calls made in the same tick (a handler acking a whole prefetch at once) into one
 * pipeline, so they leave in one write instead of one each; every call keeps its own command and
 * result. On a Cluster all calls through one of these must hash to one slot (one queue's keys do).
 */
export function perTickPipeline<A>(client: RedisClient, add: (pipe: Pipe, call: A) => void): (call: A) => Promise<unknown> {
  let queued: {call: A; resolve(value: unknown): void; reject(error: unknown): void}[] = []
  const flush = () => {
    const batch = queued
    queued = []
    const pipe = client.pipeline()
    for (const {call} of batch) add(pipe, call)
    pipe.exec().then(
      (results) =>
        batch.forEach((b, i) => {
          const [error, value] = results?.[i] ?? [new Error('Redis sent no reply'), undefined]
          if (error) b.reject(error)
          else b.resolve(value)
        }),
      (error: unknown) => batch.forEach((b) => b.reject(error)),
    )
  }
  return (call) =>
    new Promise((resolve, reject) => {
      if (queued.length === 0) queueMicrotask(flush)
      queued.push({call, resolve, reject})
    })
}

/**
 * Coalesces the calls made in the same tick into one command over all their items (one XACK of
 * every id a handler loop acked), where a pipeline would still send, and Redis run, one command
 * each. Every caller of a tick shares that command's promise: done, or failed, together.
 */
export function perTickBatch<A>(send: (items: A[]) => Promise<unknown>): (item: A) => Promise<void> {
  let items: A[] = []
  let batch: Promise<void> | undefined
  const flush = async () => {
    await Promise.resolve() // the rest of this tick's calls join first
    const sent = items
    items = []
    batch = undefined
    await send(sent)
  }
  return (item) => {
    items.push(item)
    return (batch ??= flush())
  }
}

/** A registry key of another type (someone else's `queues` set) means no queues of ours, not a failed listing. */
export const emptyIfWrongType =
  <T>(empty: T) =>
  (error: unknown): T => {
    if (/WRONGTYPE/.test(String((error as Error)?.message))) return empty
    throw error
  }

/** Bull's and BullMQ's default key prefix: `bull` (`{bull}` on a Cluster, where BullMQ needs a hash tag) or ?prefix=. */
export function bullPrefix(ctx: FlavorContext): string {
  return ctx.params.get('prefix') ?? (ctx.cluster ? '{bull}' : 'bull')
}

/** A key `<prefix>:<queue>:<suffix>` → its queue, `listed` as discover names it: bare under the default prefix. */
export function bullQueueOfKey(key: string, defaultPrefix: string): {prefix: string; queue: string; listed: string} {
  const parts = key.split(':')
  const queue = parts[parts.length - 2]!
  const prefix = parts.slice(0, -2).join(':')
  return {prefix, queue, listed: prefix === defaultPrefix ? queue : `${prefix}:${queue}`}
}

/** `emails` → (default prefix, emails); `myapp:emails` → (myapp, emails). `kind` and `library` word the error. */
export function splitBullName(ctx: FlavorContext, name: string, kind: string, library: string): {prefix: string; queue: string} {
  const at = name.lastIndexOf(':')
  const prefix = at >= 0 ? name.slice(0, at) : bullPrefix(ctx)
  const queue = at >= 0 ? name.slice(at + 1) : name
  if (!queue || !prefix) throw new UsageError(`"${kind}:${name}" is not a ${library} queue name — write ${kind}:QUEUE or ${kind}:PREFIX:QUEUE`)
  return {prefix, queue}
}
