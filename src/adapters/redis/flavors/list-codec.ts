// How a list item maps to a Message. A message with nothing but a payload is stored as the raw
// payload bytes, so plain LPUSH/BRPOP programs keep working on the list. When there is more to
// carry (name, headers, content type, a delivery count after a nack) the item is a small JSON
// envelope that starts with {"queuectl":1 so it cannot be mistaken for a user's JSON.
import {hash, randomUUID} from 'node:crypto'
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'

const MARK_TEXT = '{"queuectl":1,'
const MARK = Buffer.from(MARK_TEXT)
const utf8 = new TextDecoder('utf-8', {fatal: true})

interface Envelope {
  queuectl: 1
  id: string
  name?: string
  headers?: Record<string, string>
  ct?: string
  /** Deliveries so far. */
  attempts?: number
  /** Enqueued, epoch ms. */
  at?: number
  error?: string
  /** UTF-8 payload… */
  payload?: string
  /** …or base64 when it is not UTF-8. */
  payload64?: string
}

export interface DecodedItem {
  id: string
  payload: Buffer
  name?: string
  headers: Record<string, string>
  contentType?: string
  attempts: number
  enqueuedAt?: number
  lastError?: string
  undecodable?: string
  envelope: boolean
}

function isUtf8(buf: Buffer): boolean {
  try {
    utf8.decode(buf)
    return true
  } catch {
    return false
  }
}

/**
 * The base id of a raw item is a hash of its bytes; equal items in one list are told apart by
 * their order (see numberIds), so every id names exactly one item.
 */
export function rawId(item: Buffer | string): string {
  // one-shot hash: several times cheaper than createHash() on the enqueue/consume hot path
  return hash('sha1', item, 'hex').slice(0, 20)
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
}

function envelopeOf(item: DecodedItem | OutgoingMessage, id: string, extra: Partial<Envelope>): Buffer {
  const payload = toBuffer(item.payload)
  const env: Envelope = {queuectl: 1, id}
  if (item.name) env.name = item.name
  if (item.headers && Object.keys(item.headers).length > 0) env.headers = item.headers
  const ct = 'contentType' in item ? item.contentType : undefined
  if (ct) env.ct = ct
  Object.assign(env, extra)
  if (isUtf8(payload)) env.payload = payload.toString('utf8')
  else env.payload64 = payload.toString('base64')
  return Buffer.from(JSON.stringify(env), 'utf8')
}

/** The content type of a stream entry of another program's own fields, as a JSON object: a stream enqueue writes them back as fields. */
export const STREAM_FIELDS_TYPE = 'application/x-redis-stream-fields+json'

// generic types a reader infers from the bytes anyway (stream fields are plain JSON off a stream): not worth an envelope on a plain list
const GENERIC_TYPES = /^(application\/octet-stream|text\/plain|application\/json|application\/x-redis-stream-fields\+json)(;\s*charset=utf-8)?$/i
export const carriesContentType = (ct: string | undefined): boolean => ct !== undefined && !GENERIC_TYPES.test(ct)

/** The item for a message that loses nothing as raw bytes (its id is rawId(item)); else undefined. */
export function rawItem(message: OutgoingMessage): Buffer | string | undefined {
  if (message.name || carriesContentType(message.contentType) || (message.headers && Object.keys(message.headers).length > 0) || message.dedupId) return undefined
  const payload = message.payload
  // raw payloads that happen to start like an envelope must be wrapped, or they would decode as one
  // (strings go to ioredis as they are, written as UTF-8: no Buffer copy per message)
  const looksWrapped = typeof payload === 'string' ? payload.startsWith(MARK_TEXT) : payload.subarray(0, MARK.length).equals(MARK)
  return looksWrapped ? undefined : payload
}

/** Encodes an outgoing message: raw bytes when that loses nothing, else an envelope. */
export function encodeOutgoing(message: OutgoingMessage, now: number): {item: Buffer | string; id: string} {
  const raw = rawItem(message)
  if (raw !== undefined) return {item: raw, id: rawId(raw)}
  const id = message.dedupId ?? randomUUID()
  return {item: envelopeOf(message, id, {at: now}), id}
}

/** The item to put back after a delivery: an envelope counting that delivery (and an error, if any). */
export function encodeRequeued(decoded: DecodedItem, deliveries: number, error?: string): Buffer {
  return envelopeOf(decoded, decoded.id, {attempts: deliveries, at: decoded.enqueuedAt, ...(error ? {error} : {})})
}

/**
 * The item `retry` puts back: the payload's raw bytes when it carries nothing else, as it was
 * first written (LPUSH/BRPOP programs must not get an envelope), else an envelope keeping its count.
 */
export function encodeRetried(decoded: DecodedItem): Buffer {
  const raw = rawItem({payload: decoded.payload, name: decoded.name, headers: decoded.headers, contentType: decoded.contentType})
  return raw !== undefined ? toBuffer(raw) : encodeRequeued({...decoded, lastError: undefined}, decoded.attempts)
}

export function decodeItem(item: Buffer): DecodedItem {
  if (!item.subarray(0, MARK.length).equals(MARK)) {
    return {id: rawId(item), payload: item, headers: {}, attempts: 0, envelope: false}
  }
  try {
    const env = JSON.parse(item.toString('utf8')) as Envelope
    if (typeof env.id !== 'string') throw new Error('envelope without an id')
    const payload = env.payload64 !== undefined ? Buffer.from(env.payload64, 'base64') : Buffer.from(env.payload ?? '', 'utf8')
    return {
      id: env.id,
      payload,
      name: env.name,
      headers: env.headers ?? {},
      contentType: env.ct,
      attempts: env.attempts ?? 0,
      enqueuedAt: env.at,
      lastError: env.error,
      envelope: true,
    }
  } catch (error) {
    return {id: rawId(item), payload: item, headers: {}, attempts: 0, envelope: false, undecodable: `bad queuectl envelope: ${(error as Error).message}`}
  }
}

export function toMessage(queue: string, decoded: DecodedItem, state: MessageState, raw: Buffer, delivery = 0): Message {
  const message: Message = {
    id: decoded.id,
    queue,
    payload: decoded.payload,
    headers: decoded.headers,
    attempts: decoded.attempts + delivery,
    state,
    raw: decoded.envelope ? raw.toString('utf8') : undefined,
  }
  if (decoded.name !== undefined) message.name = decoded.name
  if (decoded.contentType !== undefined) message.contentType = decoded.contentType
  if (decoded.enqueuedAt !== undefined) message.enqueuedAt = decoded.enqueuedAt
  if (decoded.lastError !== undefined) message.lastError = decoded.lastError
  if (decoded.undecodable !== undefined) message.undecodable = decoded.undecodable
  return message
}

/** The id of the n-th item (oldest first, from 1) of a list with the same base id: `id`, `id.2`, `id.3`… */
export function nthId(id: string, n: number): string {
  return n > 1 ? `${id}.${n}` : id
}

/** Makes the ids of `messages` (one list, oldest first) unique: equal base ids get nthId's numbers. */
export function numberIds(messages: Message[]): Message[] {
  const seen = new Map<string, number>()
  for (const m of messages) {
    const n = (seen.get(m.id) ?? 0) + 1
    seen.set(m.id, n)
    m.id = nthId(m.id, n)
  }
  return messages
}

// bounded: past this many distinct payloads a repeat is numbered from 1 again (ids stay unique in the list, only the printed one lags)
const MAX_COUNTED = 10_000

/** Numbers the raw items one broker enqueues to each list, across its enqueue calls (batches of one command). */
export class RawIdCounter {
  private readonly counts = new Map<string, Map<string, number>>()

  next(queue: string, id: string): string {
    let perQueue = this.counts.get(queue)
    if (!perQueue) this.counts.set(queue, (perQueue = new Map()))
    if (perQueue.size >= MAX_COUNTED && !perQueue.has(id)) perQueue.clear()
    const n = (perQueue.get(id) ?? 0) + 1
    perQueue.set(id, n)
    return nthId(id, n)
  }
}
