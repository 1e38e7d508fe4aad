// Payload ↔ job data. The data IS the payload: the JSON value the user gave, stored as itself
// (pg-boss `data` is jsonb, graphile-worker `payload` json), so the library's own worker receives
// exactly it. Neither library has a column its workers ignore for headers, a message name or a
// content type, so those are refused with one line instead of riding inside the data. The default
// content type (JSON) is implied, never stored. jsonb normalises JSON (its own key order, no
// spaces): the worker gets the same value; read back, the bytes are the server's serialisation.
import {isUtf8} from 'node:buffer'
import type {Message, OutgoingMessage} from '../../broker/contract.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'

/** Where the data goes: named in refusals. */
export interface DataTarget {
  /** pg-boss, graphile-worker */
  library: string
  /** The queue as the user writes it: pgboss:emails */
  queue: string
  /** The library's own name for the job's name: the queue name, the task identifier. */
  nameIs: string
}

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;.*)?$/i

function textOf(payload: Buffer | string): string | undefined {
  if (typeof payload === 'string') return payload
  return isUtf8(payload) ? payload.toString('utf8') : undefined
}

/** Refuses what the library has no place for: headers, a name other than the queue, a content type other than JSON. */
function assertPlaceFor(message: OutgoingMessage, target: DataTarget): void {
  const headers = Object.keys(message.headers ?? {})
  if (headers.length > 0) {
    throw new NotSupportedError(`${target.library} keeps only the job data, no headers: ${target.queue} cannot keep header "${headers[0]}" — drop the headers (or put them in the JSON payload)`)
  }
  if (message.name !== undefined && message.name !== target.queue.slice(target.queue.indexOf(':') + 1)) {
    throw new NotSupportedError(`${target.library} has no job name besides ${target.nameIs}: ${target.queue} cannot keep name "${message.name}" — drop the name, or enqueue to that queue instead`)
  }
  if (message.contentType !== undefined && !JSON_TYPE.test(message.contentType)) {
    throw new NotSupportedError(`${target.library} keeps job data as JSON: ${target.queue} cannot keep content type "${message.contentType}" — send a JSON payload without --content-type`)
  }
}

/**
 * The data as JSON text, exactly as given (no re-serialising: jsonb/json parse it server side), after
 * checking it is JSON PostgreSQL takes. Throws a UserError naming the cause and the fix.
 */
export function encodeDataJson(message: OutgoingMessage, target: DataTarget): string {
  const text = textOf(message.payload)
  if (text === undefined) {
    throw new UsageError(`${target.library} keeps job data as JSON: the payload for ${target.queue} is binary, not UTF-8 JSON — send JSON (binary could ride base64-encoded inside a JSON string)`)
  }
  try {
    JSON.parse(text)
  } catch {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text
    throw new UsageError(`${target.library} keeps job data as JSON: the payload for ${target.queue} is not JSON: ${JSON.stringify(shown)} — send a JSON value, e.g. the text as a JSON string: '${JSON.stringify(shown)}'`)
  }
  // PostgreSQL's JSON functions refuse the NUL character, so the insert would fail on it
  if (/(?<!\\)(?:\\\\)*\\u0000/i.test(text)) {
    throw new UsageError(`${target.library} keeps job data in PostgreSQL JSON, which cannot hold the NUL character (\\u0000) in ${target.queue}'s payload — remove it from the payload`)
  }
  // after the payload: a non-JSON payload comes with a guessed non-JSON content type, and its fix is the payload
  assertPlaceFor(message, target)
  return text
}

export interface Decoded {
  payload: Buffer
  body: unknown
  headers: Record<string, string>
  contentType: string
}

/** The message parts from the stored data (parsed by the driver): the data is the payload. */
export function decodeData(data: unknown): Decoded {
  const value = data === undefined ? null : data
  return {payload: Buffer.from(JSON.stringify(value), 'utf8'), body: value, headers: {}, contentType: 'application/json'}
}

/** Fills a Message's payload side from decoded parts. */
export function applyDecoded(message: Message, decoded: Decoded): Message {
  message.payload = decoded.payload
  message.headers = decoded.headers
  message.body = decoded.body
  message.contentType = decoded.contentType
  return message
}
