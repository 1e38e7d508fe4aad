// Payload bytes ↔ the job's JSON data, so the library's own worker sees what it expects: JSON is
// stored as the value itself; anything else, and anything with headers, a content type or
// a name the library has no column for, as {"_queuectl": {…}, …}. PostgreSQL's JSON functions refuse
// \u0000, so NUL never rides as text. jsonb (pg-boss) normalises JSON (its own key order, no
// spaces): the library's worker gets the same value; read back, the bytes are jsonb's serialisation.
import {isUtf8} from 'node:buffer'
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
export interface CodecOptions {
  /** The column is jsonb (pg-boss): it normalises any JSON, so any JSON is stored as itself. */
  jsonb: boolean
  /** The library keeps the name itself (graphile's task identifier), so it does not ride in the data. */
  nameColumn: boolean
}

function textOf(payload: Buffer | string): string | undefined {
  if (typeof payload === 'string') return payload
  return isUtf8(payload) ? payload.toString('utf8') : undefined
}

/**
 * The value, when `text` is JSON the library may store as itself. A json column keeps the text but
 * the driver reads it back re-serialised, so there only canonical JSON comes back the same.
 */
function asJson(text: string, jsonb: boolean): {value: unknown} | undefined {
  if (text.includes('\\u0000')) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!jsonb && JSON.stringify(value) !== text) return undefined
  return {value}
}

function metaFor(message: OutgoingMessage, options: CodecOptions): Meta | undefined {
  const meta: Meta = {}
  if (message.headers && Object.keys(message.headers).length > 0) meta.headers = message.headers
  if (message.contentType) meta.ct = message.contentType
  if (message.name && !options.nameColumn) meta.name = message.name
  return Object.keys(meta).length > 0 ? meta : undefined
}

/** The data as JSON text: plain JSON goes as it came (no re-serialising a batch), the rest via encodeData. */
export function encodeDataJson(message: OutgoingMessage, options: CodecOptions): string {
  if (!metaFor(message, options)) {
    const text = textOf(message.payload)
    if (text !== undefined && asJson(text, options.jsonb)) return text
  }
  return JSON.stringify(encodeData(message, options))
}

/** The data to store for a message. */
export function encodeData(message: OutgoingMessage, options: CodecOptions): unknown {
  const meta = metaFor(message, options)
  const text = textOf(message.payload)
  const jsonish = !message.contentType || /json/i.test(message.contentType)
  const json = text !== undefined && jsonish ? asJson(text, options.jsonb) : undefined
  if (json && !meta) return json.value
  const value = json?.value
  if (json && value !== null && typeof value === 'object' && !Array.isArray(value) && !(META in value)) {
    // an object keeps its fields where the library's worker looks for them, plus ours
    return options.jsonb ? {[META]: meta, ...value} : {...value, [META]: meta}
  }
  if (json) return {[META]: {...meta, enc: 'json'}, payload: value}
  if (text !== undefined && !text.includes('\u0000')) return {[META]: {...meta, enc: 'text'}, payload: text}
  const bytes = typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload
  return {[META]: {...meta, enc: 'base64'}, payload: bytes.toString('base64')}
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
