// Payload bytes ↔ the job's JSON data, so the library's own worker sees what it expects: canonical
// JSON is stored as the value itself; anything else, and anything with headers, a content type or
// a name the library has no column for, as {"_queuectl": {…}, …}. PostgreSQL's JSON functions refuse
// \u0000, so NUL never rides as text. jsonb (pg-boss) keeps an object's keys in its own order
// (shorter first): the library's worker gets the same object, read back its bytes are jsonb's order.
import type {Message, OutgoingMessage} from '../../broker/contract.js'

/** What rides in the data under `_queuectl`: how to get the exact bytes back, and what has no column. */
interface Meta {
  headers?: Record<string, string>
  ct?: string
  name?: string
  /** Absent: the rest of the object is the payload. text/base64: the payload is in `payload`. */
  enc?: 'json' | 'text' | 'base64'
}

const META = '_queuectl'
const utf8 = new TextDecoder('utf-8', {fatal: true})

/** The payload as a JSON value that round-trips to the same bytes, or undefined. */
function canonicalJson(text: string): {value: unknown} | undefined {
  if (text.includes('\\u0000')) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (JSON.stringify(value) !== text) return undefined
  return {value}
}

/**
 * The data to store for a message. `nameColumn`: the library keeps the name itself (graphile's
 * task identifier), so it does not ride in the data.
 */
export function encodeData(message: OutgoingMessage, options: {jsonb: boolean; nameColumn: boolean}): unknown {
  const payload = typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload
  const meta: Meta = {}
  if (message.headers && Object.keys(message.headers).length > 0) meta.headers = message.headers
  if (message.contentType) meta.ct = message.contentType
  if (message.name && !options.nameColumn) meta.name = message.name
  let text: string | undefined
  try {
    text = utf8.decode(payload)
  } catch {
    text = undefined
  }
  const jsonish = !message.contentType || /json/i.test(message.contentType)
  const json = text !== undefined && jsonish ? canonicalJson(text) : undefined
  const hasMeta = Object.keys(meta).length > 0
  if (json && !hasMeta) return json.value
  const value = json?.value
  if (json && value !== null && typeof value === 'object' && !Array.isArray(value) && !(META in value)) {
    // an object keeps its fields where the library's worker looks for them, plus ours
    return options.jsonb ? {[META]: meta, ...value} : {...value, [META]: meta}
  }
  if (json) return {[META]: {...meta, enc: 'json'}, payload: value}
  if (text !== undefined && !text.includes('\u0000')) return {[META]: {...meta, enc: 'text'}, payload: text}
  return {[META]: {...meta, enc: 'base64'}, payload: payload.toString('base64')}
}

export interface Decoded {
  payload: Buffer
  body?: unknown
  headers: Record<string, string>
  contentType?: string
  name?: string
}

/** The message parts back from the stored data (parsed by the driver). */
export function decodeData(data: unknown): Decoded {
  const meta = metaOf(data)
  if (!meta) return jsonParts(data === undefined ? null : data)
  const record = data as Record<string, unknown>
  const base = {headers: meta.headers ?? {}, name: meta.name, contentType: meta.ct}
  if (meta.enc === 'base64') return {...base, payload: Buffer.from(String(record.payload ?? ''), 'base64')}
  if (meta.enc === 'text') return {...base, payload: Buffer.from(String(record.payload ?? ''), 'utf8')}
  const value = meta.enc === 'json' ? record.payload : withoutMeta(record)
  const parts = jsonParts(value)
  return {...parts, ...base, contentType: meta.ct ?? parts.contentType}
}

function metaOf(data: unknown): Meta | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined
  const meta = (data as Record<string, unknown>)[META]
  return meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Meta) : undefined
}

function withoutMeta(record: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) if (key !== META) copy[key] = value
  return copy
}

function jsonParts(value: unknown): Decoded {
  return {payload: Buffer.from(JSON.stringify(value), 'utf8'), body: value, headers: {}, contentType: 'application/json'}
}

/** Fills a Message's payload side from decoded parts. */
export function applyDecoded(message: Message, decoded: Decoded): Message {
  message.payload = decoded.payload
  message.headers = decoded.headers
  if (decoded.body !== undefined) message.body = decoded.body
  if (decoded.contentType) message.contentType = decoded.contentType
  if (decoded.name !== undefined) message.name = decoded.name
  return message
}
