// The dead-letter route JetStream lacks: a dead message is published to the stream STREAM_DLQ
// (made on first use, limits retention, file storage), subject queuectl.dlq.STREAM.CONSUMER, with
// its headers plus the reason, original subject, sequence and deliveries; then the source message
// is terminated (+TERM). retry publishes it back on its original subject and deletes it here.
import {RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StoredMsg} from '@nats-io/jetstream'
import {headers as makeHeaders} from '@nats-io/transport-node'
import type {Message, RetryOptions} from '../../broker/contract.js'
import {NotSupportedError} from '../../kernel/errors.js'
import {fromStored} from './codec.js'
import {isNotFound, requestError} from './errors.js'
import {deadLetterRoute, HEADER, META_HEADERS} from './names.js'
import type {Delivered} from './pull.js'

export interface DeadLetterContext {
  js: JetStreamClient
  jsm: JetStreamManager
  where: string
}

const ensured = new WeakMap<JetStreamManager, Set<string>>()

async function ensureStream(ctx: DeadLetterContext, stream: string, subjects: string): Promise<void> {
  let known = ensured.get(ctx.jsm)
  if (!known) ensured.set(ctx.jsm, (known = new Set()))
  if (known.has(stream)) return
  try {
    await ctx.jsm.streams.info(stream)
  } catch (error) {
    if (!isNotFound(error, 'stream')) throw error
    try {
      await ctx.jsm.streams.add({name: stream, subjects: [subjects], retention: RetentionPolicy.Limits, storage: StorageType.File})
    } catch (made) {
      throw new NotSupportedError(`cannot make the dead-letter stream ${stream} (subjects ${subjects}) on ${ctx.where}: ${(made as Error).message}`)
    }
  }
  known.add(stream)
}

export async function publishDead(ctx: DeadLetterContext, streamName: string, consumer: string, msg: Delivered, reason: string): Promise<void> {
  const route = deadLetterRoute(streamName, consumer)
  await ensureStream(ctx, route.stream, route.subjects)
  const h = makeHeaders()
  for (const key of msg.headers?.keys() ?? []) if (key !== 'Nats-Msg-Id') for (const v of msg.headers!.values(key)) h.append(key, v)
  h.set(HEADER.reason, reason.replace(/[\r\n]+/g, ' ').slice(0, 1024))
  h.set(HEADER.subject, msg.subject)
  h.set(HEADER.seq, String(msg.seq))
  h.set(HEADER.deliveries, String(msg.info.deliveryCount))
  h.set(HEADER.deadAt, new Date().toISOString())
  // the same delivery dead-lettered twice (a crash between publish and term) is stored once
  await ctx.js.publish(route.subject, msg.data, {headers: h, msgID: `${streamName}:${msg.seq}:${consumer}:dead`})
}

/** Dead messages of a queue, oldest first: up to `limit`, from sequence 1. */
async function readDead(ctx: DeadLetterContext, streamName: string, consumer: string, limit: number): Promise<StoredMsg[]> {
  const route = deadLetterRoute(streamName, consumer)
  const out: StoredMsg[] = []
  let seq = 1
  try {
    while (out.length < limit) {
      // MSG.GET with next_by_subj (nats-server ≥ 2.9): the next message on the subject from seq on
      const m = await ctx.jsm.streams.getMessage(route.stream, {seq, next_by_subj: route.subject} as unknown as {seq: number})
      if (!m) break
      out.push(m)
      seq = m.seq + 1
    }
  } catch (error) {
    if (isNotFound(error, 'stream')) return out
    throw requestError(error, ctx.where)
  }
  return out
}

export async function peekDead(ctx: DeadLetterContext, label: string, streamName: string, consumer: string, limit: number): Promise<Message[]> {
  return (await readDead(ctx, streamName, consumer, limit)).map((m) => fromStored(label, m, 'dead'))
}

export async function countDead(ctx: DeadLetterContext, streamName: string, consumer: string): Promise<number> {
  const route = deadLetterRoute(streamName, consumer)
  try {
    const info = await ctx.jsm.streams.info(route.stream, {subjects_filter: route.subject})
    return info.state.subjects?.[route.subject] ?? 0
  } catch (error) {
    if (isNotFound(error, 'stream')) return 0
    throw requestError(error, ctx.where)
  }
}

export async function purgeDead(ctx: DeadLetterContext, streamName: string, consumer: string): Promise<number> {
  const route = deadLetterRoute(streamName, consumer)
  try {
    return (await ctx.jsm.streams.purge(route.stream, {filter: route.subject})).purged
  } catch (error) {
    if (isNotFound(error, 'stream')) return 0
    throw requestError(error, ctx.where)
  }
}

// the dead-letter publish's own Nats-Msg-Id stays behind (and the original's was never copied:
// republished inside the dedup window it would be dropped as a duplicate)
const keepOnRetry = (key: string) => key !== 'Nats-Msg-Id' && (!META_HEADERS.has(key) || key === HEADER.name)

async function readIds(ctx: DeadLetterContext, route: {stream: string; subject: string}, ids: string[]): Promise<StoredMsg[]> {
  const out: StoredMsg[] = []
  for (const id of ids) {
    const seq = Number(id)
    if (!Number.isSafeInteger(seq) || seq <= 0) continue
    const m = await ctx.jsm.streams.getMessage(route.stream, {seq}).catch((error) => {
      if (isNotFound(error, 'stream')) return null
      throw requestError(error, ctx.where)
    })
    if (m && m.subject === route.subject) out.push(m)
  }
  return out
}

/** Dead → back onto the original subject (a copy without queuectl's headers), then deleted here. */
export async function retryDead(ctx: DeadLetterContext, streamName: string, consumer: string, options: RetryOptions): Promise<number> {
  const state = options.state ?? 'dead'
  if (state !== 'dead') throw new NotSupportedError(`nats:// retries only dead messages (its dead-letter stream), not "${state}"`)
  const wanted = options.ids ? new Set(options.ids) : undefined
  const limit = options.limit ?? Infinity
  const route = deadLetterRoute(streamName, consumer)
  let moved = 0
  for (;;) {
    const batch = wanted ? await readIds(ctx, route, [...wanted]) : await readDead(ctx, streamName, consumer, Math.min(100, limit - moved))
    const picked = batch.slice(0, limit - moved)
    for (const m of picked) {
      const h = makeHeaders()
      for (const key of m.header?.keys() ?? []) if (keepOnRetry(key)) for (const v of m.header.values(key)) h.append(key, v)
      try {
        await ctx.js.publish(m.header.get(HEADER.subject) || streamName, m.data, {headers: h})
        await ctx.jsm.streams.deleteMessage(route.stream, m.seq)
      } catch (error) {
        throw requestError(error, ctx.where)
      }
      moved++
    }
    if (wanted || batch.length === 0 || moved >= limit) return moved
  }
}
