// The read side: stats from stream and consumer info, peek by sequence (MSG.GET, no side effects).
// Inflight lists only what is still pending, so that it agrees with the count (readInflight).
import {RetentionPolicy, type JetStreamManager, type StoredMsg} from '@nats-io/jetstream'
import type {Message, MessageState, PeekOptions, QueueStats} from '../../broker/contract.js'
import {peekWith} from '../../broker/kit/peek.js'
import {NotSupportedError} from '../../kernel/errors.js'
import {fromStored} from './codec.js'
import {countDead, peekDead, type DeadLetterContext} from './deadletter.js'
import type {Target} from './directory.js'
import {isNotFound, requestError} from './errors.js'
import {deadLetterRoute} from './names.js'

const nanosToMs = (n: number | undefined) => (n === undefined ? undefined : Math.round(n / 1e6))

/** Up to `limit` messages of the stream from sequence `from` on (matching `filter`), stopping after `to`. */
async function readRange(jsm: JetStreamManager, stream: string, filter: string, from: number, limit: number, to = Infinity): Promise<StoredMsg[]> {
  const out: StoredMsg[] = []
  let seq = from
  while (out.length < limit && seq <= to) {
    // MSG.GET with next_by_subj (nats-server ≥ 2.9) skips deleted sequences and other subjects
    const m = await jsm.streams.getMessage(stream, {seq, next_by_subj: filter} as unknown as {seq: number})
    if (!m || m.seq > to) break
    out.push(m)
    seq = m.seq + 1
  }
  return out
}

export async function statsOf(ctx: DeadLetterContext, t: Target): Promise<QueueStats> {
  const s = t.stream
  const c = t.consumer
  const details: Record<string, unknown> = {
    stream: s.config.name,
    subjects: s.config.subjects,
    retention: s.config.retention,
    storage: s.config.storage,
    messages: s.state.messages,
    bytes: s.state.bytes,
    firstSeq: s.state.first_seq,
    lastSeq: s.state.last_seq,
  }
  const stats: QueueStats = {name: t.label, kind: 'nats', counts: {}, consumers: s.state.consumer_count, details}
  if (!c) {
    stats.counts.waiting = s.state.messages
    details.note = 'the stream has no durable pull consumer: all its messages are shown as waiting'
    if (s.state.messages > 0 && s.state.first_ts) stats.oldestAgeMs = Math.max(0, Date.now() - Date.parse(s.state.first_ts))
    return stats
  }
  Object.assign(details, {
    consumer: c.name,
    maxDeliver: c.config.max_deliver,
    ackWaitMs: nanosToMs(c.config.ack_wait),
    maxAckPending: c.config.max_ack_pending,
    redelivered: c.num_redelivered,
    pullRequestsWaiting: c.num_waiting,
    ackFloorSeq: c.ack_floor.stream_seq,
    deliveredSeq: c.delivered.stream_seq,
    deadLetterQueue: deadLetterRoute(s.config.name, c.name).stream,
  })
  if (c.config.filter_subject) details.filterSubject = c.config.filter_subject
  stats.counts = {waiting: c.num_pending, inflight: c.num_ack_pending, dead: await countDead(ctx, s.config.name, c.name)}
  if (c.num_pending + c.num_ack_pending > 0) {
    // the first unacked message's timestamp: one MSG.GET
    const [first] = await readRange(ctx.jsm, s.config.name, c.config.filter_subject || '>', c.ack_floor.stream_seq + 1, 1).catch(() => [])
    if (first) stats.oldestAgeMs = Math.max(0, Date.now() - first.time.getTime())
  }
  return stats
}

export async function peekTarget(ctx: DeadLetterContext, t: Target, options: PeekOptions): Promise<Message[]> {
  const open = async (state: MessageState) => {
    if (state !== 'waiting' && state !== 'inflight' && state !== 'dead') throw new NotSupportedError(`nats:// can peek waiting, inflight and dead messages, not "${state}"`)
    return t
  }
  return peekWith(options, open, (target, state, limit) => readState(ctx, target, state, limit))
}

/**
 * The messages still pending (num_ack_pending of them): delivered, above the ack floor, and not
 * given up on. JetStream does not say which sequences are pending: above the floor there may also
 * be messages that used up max_deliver (the server stops delivering them, but the floor stays
 * below them while others are pending). On a work-queue stream an acked message leaves the stream,
 * so every message above the floor beyond the pending count is one given up on, and those are the
 * oldest (a message uses up max_deliver only after max_deliver ack waits from its first delivery,
 * and first deliveries go in sequence order): they are left out, so the list agrees with the count.
 * Elsewhere acked messages stay too and cannot be told apart: the first `pending` are listed.
 */
async function readInflight(ctx: DeadLetterContext, t: Target, c: NonNullable<Target['consumer']>, limit: number): Promise<StoredMsg[]> {
  const name = t.stream.config.name
  const filter = c.config.filter_subject || '>'
  const from = Math.max(1, c.ack_floor.stream_seq + 1)
  const to = c.delivered.stream_seq
  const pending = c.num_ack_pending
  if (pending <= 0) return []
  if (to - from + 1 <= pending || t.stream.config.retention !== RetentionPolicy.Workqueue) return readRange(ctx.jsm, name, filter, from, Math.min(limit, pending), to)
  const above = await readRange(ctx.jsm, name, filter, from, Infinity, to)
  return above.slice(Math.max(0, above.length - pending)).slice(0, limit)
}

async function readState(ctx: DeadLetterContext, t: Target, state: MessageState, limit: number): Promise<Message[]> {
  const name = t.stream.config.name
  const c = t.consumer
  if (state === 'dead') return c ? peekDead(ctx, t.label, name, c.name, limit) : []
  if (!c && state === 'inflight') return []
  const filter = c?.config.filter_subject || '>'
  // waiting: never delivered (after the consumer's delivered sequence); inflight: see readInflight
  const from = !c ? t.stream.state.first_seq : c.delivered.stream_seq + 1
  try {
    const got = c && state === 'inflight' ? await readInflight(ctx, t, c, limit) : await readRange(ctx.jsm, name, filter, Math.max(1, from), limit)
    return got.map((m) => fromStored(t.label, m, state, state === 'inflight' ? 1 : 0))
  } catch (error) {
    if (isNotFound(error, 'stream')) return []
    throw requestError(error, ctx.where)
  }
}
