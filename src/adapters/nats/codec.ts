// How messages map to NATS: payload bytes as the message data, headers as NATS headers, the name
// in Queuectl-Name, content type in Content-Type, the dedup id in Nats-Msg-Id. The id is the
// stream sequence.
import {headers as makeHeaders, type MsgHdrs} from '@nats-io/transport-node'
import type {StoredMsg} from '@nats-io/jetstream'
import type {Message, MessageState, OutgoingMessage} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {HEADER, META_HEADERS} from './names.js'
import type {Delivered} from './pull.js'

const MSG_ID = 'Nats-Msg-Id'
// header names are tokens: no whitespace, colons or control characters
// eslint-disable-next-line no-control-regex
const BAD_KEY = /[\s:\u0000-\u001f\u007f]/
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\r\n\u0000]/

export function encodeHeaders(message: OutgoingMessage, index: number): MsgHdrs | undefined {
  const entries = Object.entries(message.headers ?? {})
  if (entries.length === 0 && !message.name && !message.contentType && !message.dedupId) return undefined
  const h = makeHeaders()
  for (const [key, value] of entries) {
    if (!key || BAD_KEY.test(key)) throw new UsageError(`message at index ${index}: header "${key}" is not a valid NATS header name (no spaces, colons or control characters)`)
    if (BAD_VALUE.test(String(value))) throw new UsageError(`message at index ${index}: header "${key}" holds a line break or NUL, which NATS headers cannot carry`)
    h.set(key, String(value))
  }
  if (message.name) h.set(HEADER.name, message.name)
  if (message.contentType) h.set(HEADER.contentType, message.contentType)
  if (message.dedupId) h.set(MSG_ID, message.dedupId)
  return h
}

/** Headers as one value per name (repeated ones joined by ", "), queuectl's own facts and Content-Type left out. */
function decodeHeaders(h: MsgHdrs | undefined, keepMeta = false): Record<string, string> {
  const out: Record<string, string> = {}
  if (!h) return out
  for (const key of h.keys()) {
    // Content-Type is the message's contentType, not one of its headers
    if (!keepMeta && (META_HEADERS.has(key) || key === HEADER.contentType)) continue
    out[key] = h.values(key).join(', ')
  }
  return out
}

interface Native {
  subject: string
  seq: number
  data: Uint8Array
  header?: MsgHdrs
  time?: Date
}

export function toMessage(queue: string, raw: Native, state: MessageState, attempts: number): Message {
  const h = raw.header
  const name = h?.get(HEADER.name) || undefined
  const contentType = h?.get(HEADER.contentType) || undefined
  const message: Message = {
    id: String(raw.seq),
    queue,
    payload: Buffer.from(raw.data),
    headers: decodeHeaders(h),
    attempts,
    state,
    enqueuedAt: raw.time?.getTime(),
    raw: h ? {subject: raw.subject, seq: raw.seq, headers: decodeHeaders(h, true)} : {subject: raw.subject, seq: raw.seq},
  }
  if (name) message.name = name
  if (contentType) message.contentType = contentType
  if (state === 'dead') {
    message.lastError = h?.get(HEADER.reason) || undefined
    message.attempts = Number(h?.get(HEADER.deliveries) || attempts)
  }
  return message
}

export function fromDelivered(queue: string, msg: Delivered): Message {
  const message = toMessage(queue, {subject: msg.subject, seq: msg.seq, data: msg.data, header: msg.headers}, 'inflight', msg.info.deliveryCount)
  // the time as it came: no Date a delivery just to read it back
  message.enqueuedAt = msg.info.timestampMs
  return message
}

export function fromStored(queue: string, msg: StoredMsg, state: MessageState, attempts = 0): Message {
  return toMessage(queue, msg, state, attempts)
}

/** Bytes NATS counts against max_payload: data plus the encoded header block. */
export function wireSize(data: Uint8Array, h: MsgHdrs | undefined): number {
  if (!h) return data.length
  let size = 'NATS/1.0\r\n\r\n'.length
  for (const key of h.keys()) for (const v of h.values(key)) size += Buffer.byteLength(`${key}: ${v}\r\n`)
  return data.length + size
}
