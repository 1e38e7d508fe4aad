// The export/import NDJSON format: one message a line, the envelope's JSON form (messageToJson)
// without the derived `body`. The payload is kept byte for byte: `payload` when it is UTF-8 text,
// `payloadBase64` when it is not. Import reads back name, headers, content type and payload (and
// priority when asked); ids, states and times belong to the broker that held the message.
import type {Message, OutgoingMessage} from '../../broker/contract.js'
import {TRANSPORTS} from '../../adapters/registry.js'
import {messageToJson} from '../envelope.js'
import {jsonEscaped} from '../../kernel/terminal.js'

export function exportLine(message: Message): string {
  const json = messageToJson(message)
  delete json.body
  // C1 and bidi characters as \u escapes: the same payload for import, nothing a terminal acts on
  return jsonEscaped(JSON.stringify(json))
}

/** Headers a broker sets itself (dead-lettering history, delivery counts), as each transport declares them: not copied, whichever broker the message came from. */
const BROKER_HEADERS = headerPattern(TRANSPORTS.flatMap((t) => t.headers?.broker ?? []))
/** Dead-letter notes: dropped when a message goes back to work (retry). */
const DEAD_LETTER_HEADERS = headerPattern(TRANSPORTS.flatMap((t) => t.headers?.deadLetter ?? []))

/** Header names, `prefix*` for a prefix, as one case-insensitive whole-name pattern. */
function headerPattern(names: readonly string[]): RegExp {
  if (names.length === 0) return /(?!)/
  const alternatives = names.map((n) => n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
  return new RegExp(`^(${alternatives.join('|')})$`, 'i')
}

export function copyHeaders(headers: Record<string, string>, options: {retry?: boolean} = {}): Record<string, string> | undefined {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers)) {
    if (BROKER_HEADERS.test(key)) continue
    if (options.retry && DEAD_LETTER_HEADERS.test(key)) continue
    out[key] = value
  }
  return Object.keys(out).length > 0 ? out : undefined
}

export interface OutgoingOptions {
  /** Dead → waiting: drop our dead-letter notes. */
  retry?: boolean
  /** The destination serves priorities: keep them. */
  priority?: boolean
  /** The destination keeps message groups: keep the group. */
  groups?: boolean
  /**
   * The destination deduplicates by id within groups (SQS FIFO): a message from a group (an SQS
   * FIFO queue, whose message ids are unique) gets its id there as its deduplication id, as SQS's
   * own dead-letter moves do. Sending the same message twice (a move re-run after a crash) is then
   * dropped as a duplicate, while two messages that shared a deduplication id at the source both
   * arrive. Other ids (a hash of a plain Redis list item) are not unique, so they are not used.
   */
  dedup?: boolean
  /** Source and destination are the same kind of broker: its ids mean the same there, so keep them (messageId). */
  keepId?: boolean
}

/** A consumed message as something to send elsewhere, keeping payload bytes, name, headers and content type. */
export function toOutgoing(message: Message, options: OutgoingOptions = {}): OutgoingMessage {
  const out: OutgoingMessage = {payload: message.payload}
  if (message.name !== undefined) out.name = message.name
  if (message.contentType !== undefined) out.contentType = message.contentType
  const headers = copyHeaders(message.headers, options)
  if (headers) out.headers = headers
  if (options.priority && message.priority !== undefined && message.priority > 0) out.priority = message.priority
  if (options.groups && message.groupId !== undefined) out.groupId = message.groupId
  if (options.dedup && message.groupId !== undefined && message.id !== '') out.dedupId = message.id
  if (options.keepId && message.id !== '') out.messageId = message.id
  return out
}

export class LineError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`)
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const isWellFormed = (s: string): boolean => (s as string & {isWellFormed(): boolean}).isWellFormed()

/** Parses one export line; throws LineError naming the line and what is wrong with it. */
export function parseExportLine(text: string, line: number, options: {priority?: boolean} = {}): OutgoingMessage {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new LineError(line, `not valid JSON (${(error as Error).message}) — a truncated file?`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LineError(line, 'not a JSON object')
  const v = value as Record<string, unknown>
  const hasText = v.payload !== undefined
  const hasBase64 = v.payloadBase64 !== undefined
  if (hasText === hasBase64) throw new LineError(line, 'needs exactly one of "payload" (text) or "payloadBase64"')
  let payload: Buffer | string
  if (hasText) {
    if (typeof v.payload !== 'string') throw new LineError(line, '"payload" must be a string (use payloadBase64 for bytes)')
    // a well-formed string goes as it is (adapters write strings as UTF-8, as for enqueue's lines): no Buffer copy a line; a lone surrogate still becomes U+FFFD's bytes here
    payload = isWellFormed(v.payload) ? v.payload : Buffer.from(v.payload, 'utf8')
  } else {
    const b64 = v.payloadBase64
    if (typeof b64 !== 'string' || b64.length % 4 !== 0 || !BASE64.test(b64)) throw new LineError(line, '"payloadBase64" is not valid base64')
    payload = Buffer.from(b64, 'base64')
  }
  const out: OutgoingMessage = {payload}
  if (v.name !== undefined && v.name !== null) {
    if (typeof v.name !== 'string') throw new LineError(line, '"name" must be a string')
    out.name = v.name
  }
  if (v.contentType !== undefined && v.contentType !== null) {
    if (typeof v.contentType !== 'string') throw new LineError(line, '"contentType" must be a string')
    out.contentType = v.contentType
  }
  if (v.headers !== undefined && v.headers !== null) {
    if (typeof v.headers !== 'object' || Array.isArray(v.headers)) throw new LineError(line, '"headers" must be an object of strings')
    const headers: Record<string, string> = {}
    for (const [key, h] of Object.entries(v.headers as Record<string, unknown>)) {
      if (typeof h !== 'string') throw new LineError(line, `header "${key}" must be a string`)
      if (!BROKER_HEADERS.test(key)) headers[key] = h
    }
    if (Object.keys(headers).length > 0) out.headers = headers
  }
  if (options.priority && v.priority !== undefined && v.priority !== null) {
    if (typeof v.priority !== 'number' || !Number.isInteger(v.priority)) throw new LineError(line, '"priority" must be an integer')
    if (v.priority > 0) out.priority = v.priority
  }
  return out
}
