// How a stream entry maps to a Message. Entries written by queuectl carry the fields `payload`
// (the bytes), `name`, `headers` (JSON) and `ct` (a type other than JSON, text or bytes); a
// dead-lettered copy adds `error`, `attempts` and `origin` (the original entry id). Entries
// written by other programs have arbitrary fields: they are shown as a JSON object of their fields
// (content type STREAM_FIELDS_TYPE), which a stream enqueue (move, import) writes back as fields.
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'
import {carriesContentType, STREAM_FIELDS_TYPE} from './list-codec.js'

export type StreamEntry = [id: Buffer | string, fields: Buffer[]]

/** A message that is only a payload: its entry is the one field `payload`. */
export function isPlain(message: OutgoingMessage): boolean {
  return !message.name && !(message.headers && Object.keys(message.headers).length > 0) && !carriesContentType(message.contentType) && !ownFieldsOf(message)
}

/** Another program's entry fields (STREAM_FIELDS_TYPE, a flat object of strings), written back as they were; else undefined. */
function ownFieldsOf(message: OutgoingMessage): string[] | undefined {
  if (message.contentType !== STREAM_FIELDS_TYPE || message.name || (message.headers && Object.keys(message.headers).length > 0)) return undefined
  let value: unknown
  try {
    value = JSON.parse(message.payload.toString())
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0 || !entries.every(([, v]) => typeof v === 'string')) return undefined
  return entries.flat() as string[]
}

export function fieldsOf(message: OutgoingMessage): (string | Buffer)[] {
  const own = ownFieldsOf(message)
  if (own) return own
  // strings go to ioredis as they are (written as UTF-8): no Buffer copy per message
  const fields: (string | Buffer)[] = ['payload', message.payload]
  if (message.name) fields.push('name', message.name)
  if (message.headers && Object.keys(message.headers).length > 0) fields.push('headers', JSON.stringify(message.headers))
  // a generic type (JSON, text, bytes) is what an XREADGROUP reader infers anyway: no `ct` field for it
  if (carriesContentType(message.contentType)) fields.push('ct', message.contentType!)
  return fields
}

/** An entry id's milliseconds part (`<ms>-<seq>`). */
const msOfId = (id: string): number => Number(id.split('-', 1)[0])

const PAYLOAD_FIELD = Buffer.from('payload')

export function decodeEntry(queue: string, entry: StreamEntry, state: MessageState, attempts: number): Message {
  const id = entry[0].toString()
  const list = entry[1] ?? []
  // queuectl's own plain entry (the one field `payload`): the message the general path makes, without its map
  if (list.length === 2 && PAYLOAD_FIELD.equals(list[0]!)) {
    const payload = list[1]!
    return {id, queue, payload, headers: {}, attempts, state, enqueuedAt: msOfId(id), raw: {payload: `<${payload.length} bytes>`}}
  }
  const map = new Map<string, Buffer>()
  for (let i = 0; i + 1 < list.length; i += 2) map.set(list[i]!.toString('utf8'), list[i + 1]!)
  const message: Message = {id, queue, payload: Buffer.alloc(0), headers: {}, attempts, state, enqueuedAt: msOfId(id)}
  const payload = map.get('payload')
  if (payload === undefined) {
    const body: Record<string, string> = {}
    // a dead-lettered copy's error, count and origin are queuectl's, not fields of the job
    for (const [k, v] of map) if (state !== 'dead' || !DEAD_FIELDS.has(k)) body[k] = v.toString('utf8')
    message.body = body
    message.payload = Buffer.from(JSON.stringify(body), 'utf8')
    message.contentType = STREAM_FIELDS_TYPE
    message.raw = body
    if (state === 'dead') deadFacts(message, map, attempts)
    return message
  }
  message.payload = payload
  const name = map.get('name')
  if (name) message.name = name.toString('utf8')
  const ct = map.get('ct')
  if (ct) message.contentType = ct.toString('utf8')
  const headers = map.get('headers')
  if (headers) {
    try {
      message.headers = JSON.parse(headers.toString('utf8')) as Record<string, string>
    } catch (error) {
      message.undecodable = `headers field is not JSON: ${(error as Error).message}`
    }
  }
  deadFacts(message, map, attempts)
  const raw: Record<string, string> = {}
  for (const [k, v] of map) raw[k] = k === 'payload' ? `<${v.length} bytes>` : v.toString('utf8')
  message.raw = raw
  return message
}

const DEAD_FIELDS = new Set(['error', 'attempts', 'origin'])

function deadFacts(message: Message, map: Map<string, Buffer>, attempts: number): void {
  const error = map.get('error')
  if (error) message.lastError = error.toString('utf8')
  const dead = map.get('attempts')
  if (dead) message.attempts = Number(dead.toString()) || attempts
}
