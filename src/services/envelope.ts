// The message envelope as users see it: decoded bodies, one-line previews, JSON forms that keep
// the payload bytes exactly (text when it is UTF-8, base64 when it is not).
import type {Message} from '../broker/contract.js'
import {formatBytes} from '../kernel/units.js'

const utf8 = new TextDecoder('utf-8', {fatal: true})

export function payloadText(payload: Buffer): string | undefined {
  try {
    return utf8.decode(payload)
  } catch {
    return undefined
  }
}

/** The decoded body: the adapter's, or the payload parsed as JSON when it is JSON. */
export function bodyOf(message: Message): unknown {
  if (message.body !== undefined) return message.body
  if (message.contentType && !/json/i.test(message.contentType)) return undefined
  const text = payloadText(message.payload)
  if (text === undefined) return undefined
  const first = text.trimStart()[0]
  if (first !== '{' && first !== '[' && first !== '"' && !/^(-?\d|true|false|null)/.test(text.trimStart())) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** One line, at most `width` characters, for tables. */
export function payloadPreview(message: Message, width = 60): string {
  if (message.undecodable) return `<undecodable: ${message.undecodable}>`
  const body = bodyOf(message)
  let text: string
  if (body !== undefined) text = JSON.stringify(body)
  else {
    const raw = payloadText(message.payload)
    text = raw === undefined ? `<binary ${formatBytes(message.payload.length)} ${message.payload.subarray(0, 8).toString('hex')}…>` : raw
  }
  text = text.replace(/\s+/g, ' ')
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

export interface MessageJson {
  id: string
  queue: string
  name?: string
  state: string
  attempts: number
  priority?: number
  groupId?: string
  enqueuedAt?: string
  availableAt?: string
  headers: Record<string, string>
  contentType?: string
  /** The payload as text when it is UTF-8… */
  payload?: string
  /** …or as base64 when it is not. */
  payloadBase64?: string
  body?: unknown
  lastError?: string
  undecodable?: string
  raw?: unknown
}

export function messageToJson(message: Message, options: {raw?: boolean} = {}): MessageJson {
  const text = payloadText(message.payload)
  const json: MessageJson = {
    id: message.id,
    queue: message.queue,
    name: message.name,
    state: message.state,
    attempts: message.attempts,
    priority: message.priority,
    groupId: message.groupId,
    enqueuedAt: iso(message.enqueuedAt),
    availableAt: iso(message.availableAt),
    headers: message.headers,
    contentType: message.contentType,
    ...(text === undefined ? {payloadBase64: message.payload.toString('base64')} : {payload: text}),
    body: bodyOf(message),
    lastError: message.lastError,
    undecodable: message.undecodable,
  }
  if (options.raw) json.raw = message.raw
  return json
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString()
}
