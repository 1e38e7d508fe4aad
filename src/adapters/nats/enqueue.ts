// enqueue: every message checked first (size, headers), then published with many acks in flight
// (a window, not one round trip each). The subject is ?subject= or the stream's first subject.
import type {JetStreamClient, PubAck, StreamInfo} from '@nats-io/jetstream'
import type {MsgHdrs} from '@nats-io/transport-node'
import type {EnqueueOptions, OutgoingMessage} from '../../broker/contract.js'
import {EnqueueError, ExitCode, InterruptedError, NotFoundError, NotSupportedError, UsageError} from '../../kernel/errors.js'
import {natsCapabilities} from './capabilities.js'
import {encodeHeaders, wireSize} from './codec.js'
import {isConnectionTrouble, requestError} from './errors.js'
import {subjectMatches} from './names.js'

/** Publishes awaiting their ack at once. */
const WINDOW = 512

export interface PublishContext {
  js: JetStreamClient
  where: string
  /** The server's max_payload. */
  maxPayload: number
  subject?: string
}

/** The subject to publish a stream's messages on. */
function publishSubject(stream: StreamInfo, chosen?: string): string {
  const subjects = stream.config.subjects ?? []
  const name = stream.config.name
  if (chosen) {
    if (!subjects.some((s) => subjectMatches(s, chosen))) {
      throw new NotFoundError(`no stream captures subject "${chosen}" here: stream "${name}" takes ${subjects.join(', ') || 'no subjects'} — pick one of those with ?subject=`)
    }
    return chosen
  }
  const first = subjects[0]
  if (!first) throw new UsageError(`stream "${name}" captures no subjects (a mirror or sourced stream?) — publish to the stream it copies`)
  if (/(^|\.)[*>](\.|$)/.test(first)) {
    throw new UsageError(`stream "${name}" captures ${first}, a wildcard — say which subject to publish on with ?subject=… in the URL`)
  }
  return first
}

interface Prepared {
  data: Uint8Array
  headers?: MsgHdrs
}

function prepare(messages: OutgoingMessage[], limit: number, subject: string): Prepared[] {
  return messages.map((m, i) => {
    if (m.delayMs) throw new NotSupportedError(`message at index ${i} asks for a delay — ${natsCapabilities.advice!.delay}`)
    if (m.priority !== undefined) throw new NotSupportedError(`message at index ${i} asks for a priority — ${natsCapabilities.advice!.priority}`)
    if (m.groupId) throw new NotSupportedError(`message at index ${i} names a group: JetStream has no message groups on nats-server 2.9`)
    const data = typeof m.payload === 'string' ? Buffer.from(m.payload, 'utf8') : m.payload
    const headers = encodeHeaders(m, i)
    const size = wireSize(data, headers) + subject.length
    if (size > limit) {
      throw new UsageError(`message at index ${i} is ${size} bytes with its headers, over the ${limit}-byte limit here (max_payload / the stream's max_msg_size) — nothing was sent`)
    }
    return {data, headers}
  })
}

export async function publishAll(ctx: PublishContext, stream: StreamInfo, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
  const subject = publishSubject(stream, ctx.subject)
  const maxMsg = stream.config.max_msg_size > 0 ? stream.config.max_msg_size : Infinity
  const prepared = prepare(messages, Math.min(ctx.maxPayload, maxMsg), subject)
  const ids = new Array<string>(messages.length)
  const done = new Array<boolean>(messages.length).fill(false)
  let confirmed = 0
  let failure: unknown
  let next = 0
  const worker = async () => {
    while (failure === undefined && next < prepared.length) {
      if (options?.signal?.aborted) throw new InterruptedError()
      const i = next++
      const p = prepared[i]!
      const acked = ctx.js.publish(subject, p.data, p.headers ? {headers: p.headers} : undefined)
      // publish writes before its first await, on the one connection: after the last, this call's are all out in order
      if (next === prepared.length) options?.onWritten?.()
      const ack: PubAck = await acked
      ids[i] = String(ack.seq)
      done[i] = true
      if (++confirmed % WINDOW === 0) options?.onProgress?.(confirmed)
    }
  }
  await Promise.all(Array.from({length: Math.min(WINDOW, prepared.length)}, () => worker().catch((e) => (failure ??= e))))
  if (failure !== undefined) {
    if (failure instanceof InterruptedError && confirmed === 0) throw failure
    const pending = done.flatMap((ok, i) => (ok ? [] : [i]))
    const cause = requestError(failure, ctx.where)
    const transient = isConnectionTrouble(failure)
    throw new EnqueueError(`${confirmed} of ${messages.length} sent to ${ctx.where}, then: ${cause.message}`, confirmed, transient ? ExitCode.connection : ExitCode.checkFailed, {pending, transient})
  }
  if (confirmed % WINDOW !== 0) options?.onProgress?.(confirmed)
  return ids
}
