// Payload bytes ↔ a Node job library's `data` (Bull, Bee-Queue), as the BullMQ flavor does it:
// canonical JSON is stored as the value itself, so the library's workers get the object they
// expect; other UTF-8 text as a string; other bytes as base64. How to get the exact bytes back
// (plus headers, content type, a job name the library has no field for) rides next to the data
// under `queuectl` in the job's options, which both libraries keep as they are.
import type {Message, OutgoingMessage} from '../../../broker/contract.js'

export interface QueuectlExtra {
  headers?: Record<string, string>
  ct?: string
  enc?: 'text' | 'base64'
  /** Job name, for libraries without one (Bee-Queue). */
  name?: string
  /** Hand-backs by queuectl consumers (Bee-Queue keeps no delivery count of its own). */
  requeues?: number
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

function textOf(payload: Buffer): string | undefined {
  try {
    return utf8.decode(payload)
  } catch {
    return undefined
  }
}

/** The `data` to store and what queuectl needs to read it back. */
export function encodeData(message: OutgoingMessage): {data: unknown; extra: QueuectlExtra} {
  const {data, extra} = encodeDataWithJson(message)
  return {data, extra}
}

const isWellFormed = (s: string): boolean => (s as string & {isWellFormed(): boolean}).isWellFormed()

/**
 * encodeData, with JSON.stringify(data) too: for canonical JSON that is the payload's text itself,
 * so a caller writing the job as JSON splices it in instead of stringifying the parsed value again.
 */
export function encodeDataWithJson(message: OutgoingMessage): {data: unknown; dataJson: string; extra: QueuectlExtra} {
  const raw = message.payload
  // a well-formed string is its own UTF-8 text: no Buffer copy and decode per message (a lone surrogate goes the Buffer way, becoming U+FFFD as before)
  const payload = typeof raw === 'string' && !isWellFormed(raw) ? Buffer.from(raw, 'utf8') : raw
  const extra: QueuectlExtra = {}
  const text = typeof payload === 'string' ? payload : textOf(payload)
  if (text !== undefined && (!message.contentType || /json/i.test(message.contentType))) {
    try {
      const parsed: unknown = JSON.parse(text)
      // both libraries store falsy data (0, false, null) as {}: keep those as text
      if (parsed && JSON.stringify(parsed) === text) return withExtra(message, {data: parsed, dataJson: text, extra})
    } catch {
      // not JSON: stored as text below
    }
  }
  let data: string
  if (text !== undefined) {
    data = text
    extra.enc = 'text'
  } else {
    data = (payload as Buffer).toString('base64')
    extra.enc = 'base64'
  }
  return withExtra(message, {data, dataJson: JSON.stringify(data), extra})
}

function withExtra<T extends {extra: QueuectlExtra}>(message: OutgoingMessage, out: T): T {
  if (message.headers && Object.keys(message.headers).length > 0) out.extra.headers = message.headers
  if (message.contentType) out.extra.ct = message.contentType
  return out
}

/** Payload bytes, decoded body and content type of stored `data`. */
export function decodeData(data: unknown, extra: QueuectlExtra): Pick<Message, 'payload' | 'body' | 'contentType'> {
  const out: Pick<Message, 'payload' | 'body' | 'contentType'> = {payload: Buffer.alloc(0)}
  if (extra.enc === 'base64') out.payload = Buffer.from(typeof data === 'string' ? data : '', 'base64')
  // an empty string comes back as {} (the libraries' default for falsy data)
  else if (extra.enc === 'text') out.payload = Buffer.from(typeof data === 'string' ? data : '', 'utf8')
  else {
    out.payload = Buffer.from(JSON.stringify(data ?? null), 'utf8')
    out.body = data
  }
  if (extra.ct) out.contentType = extra.ct
  else if (out.body !== undefined) out.contentType = 'application/json'
  return out
}

/** `queuectl` from a job's options, whatever was stored there. */
export function extraOf(options: unknown): QueuectlExtra {
  const q = options && typeof options === 'object' ? (options as {queuectl?: unknown}).queuectl : undefined
  return q && typeof q === 'object' && !Array.isArray(q) ? (q as QueuectlExtra) : {}
}
