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
  const payload = typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload
  const extra: QueuectlExtra = {}
  const text = textOf(payload)
  let data: unknown
  if (text !== undefined && (!message.contentType || /json/i.test(message.contentType))) {
    try {
      const parsed: unknown = JSON.parse(text)
      // both libraries store falsy data (0, false, null) as {}: keep those as text
      if (parsed && JSON.stringify(parsed) === text) data = parsed
    } catch {
      data = undefined
    }
  }
  if (data === undefined && text !== undefined) {
    data = text
    extra.enc = 'text'
  } else if (data === undefined) {
    data = payload.toString('base64')
    extra.enc = 'base64'
  }
  if (message.headers && Object.keys(message.headers).length > 0) extra.headers = message.headers
  if (message.contentType) extra.ct = message.contentType
  return {data, extra}
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
