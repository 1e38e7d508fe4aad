// The envelope ↔ SQS messages. Headers ride as String message attributes; our own facts use the
// reserved queuectl-* names. SQS bodies must be text from a restricted Unicode set, so a payload
// that is not such text (binary, NUL…) travels base64-encoded and is marked so.
import type {MessageAttributeValue, Message as SqsMessage, SendMessageBatchRequestEntry} from '@aws-sdk/client-sqs'
import type {Message, MessageState, OutgoingMessage} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {SQS_MAX_ATTRIBUTES} from './capabilities.js'

const ATTR_NAME = 'queuectl-name'
const ATTR_CONTENT_TYPE = 'queuectl-content-type'
const ATTR_ENCODING = 'queuectl-encoding'
const ATTR_ERROR = 'queuectl-error'
const RESERVED = new Set([ATTR_NAME, ATTR_CONTENT_TYPE, ATTR_ENCODING, ATTR_ERROR])

/** Characters SQS refuses in bodies and attribute values. */
const INVALID_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)(?!aws\.|amazon\.)[A-Za-z0-9_.-]{1,256}$/i
const utf8 = new TextDecoder('utf-8', {fatal: true})

export type Attributes = Record<string, MessageAttributeValue>

/** The body SQS will carry, and whether it had to be base64-encoded. */
export function encodeBody(payload: Buffer | string): {body: string; base64: boolean} {
  if (typeof payload === 'string' && payload.length > 0 && !INVALID_CHAR.test(payload)) return {body: payload, base64: false}
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  let text: string | undefined
  try {
    text = utf8.decode(bytes)
  } catch {
    text = undefined
  }
  if (text !== undefined && text.length > 0 && !INVALID_CHAR.test(text)) return {body: text, base64: false}
  // An empty payload becomes "=": SQS bodies cannot be empty, and "=" decodes to zero bytes.
  return {body: bytes.length === 0 ? '=' : bytes.toString('base64'), base64: true}
}

/** What SQS counts against the size limit: body bytes plus each attribute's name, type and value. */
export function messageSize(body: string, attributes: Attributes): number {
  let size = Buffer.byteLength(body, 'utf8')
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8')
    if (value.StringValue !== undefined) size += Buffer.byteLength(value.StringValue, 'utf8')
    if (value.BinaryValue !== undefined) size += value.BinaryValue.length
  }
  return size
}

function stringAttr(value: string): MessageAttributeValue {
  return {DataType: 'String', StringValue: value}
}

/** Builds the message attributes, refusing what SQS would refuse (with the message's index). */
export function encodeAttributes(message: OutgoingMessage, base64: boolean, index: number, extra?: Attributes): Attributes {
  const attributes: Attributes = {}
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    if (RESERVED.has(key)) throw new UsageError(`message at index ${index}: header "${key}" is reserved by queuectl — rename it`)
    if (!ATTRIBUTE_NAME.test(key)) {
      throw new UsageError(
        `message at index ${index}: header "${key}" is not a valid SQS attribute name — use letters, digits, _ - and . (not first, last or doubled), at most 256, not starting with AWS. or Amazon.`,
      )
    }
    if (value === '' || INVALID_CHAR.test(value)) {
      throw new UsageError(`message at index ${index}: header "${key}" must be non-empty text without control characters (SQS refuses it)`)
    }
    attributes[key] = stringAttr(value)
  }
  if (message.name) attributes[ATTR_NAME] = stringAttr(message.name)
  if (message.contentType) attributes[ATTR_CONTENT_TYPE] = stringAttr(message.contentType)
  if (base64) attributes[ATTR_ENCODING] = stringAttr('base64')
  Object.assign(attributes, extra)
  if (Object.keys(attributes).length > SQS_MAX_ATTRIBUTES) {
    throw new UsageError(
      `message at index ${index} needs ${Object.keys(attributes).length} SQS message attributes (headers, plus name, content type and encoding) but SQS allows ${SQS_MAX_ATTRIBUTES} — send fewer headers`,
    )
  }
  return attributes
}

/** A batch entry for SendMessageBatch (without Id). */
export type Outgoing = Omit<SendMessageBatchRequestEntry, 'Id'>

/** The envelope of a received SQS message. */
export function decodeMessage(queue: string, raw: SqsMessage, state: MessageState, peeked = false): Message {
  const attributes = raw.MessageAttributes ?? {}
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(attributes)) {
    if (RESERVED.has(key)) continue
    headers[key] = value.StringValue ?? (value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : '')
  }
  const body = raw.Body ?? ''
  const base64 = attributes[ATTR_ENCODING]?.StringValue === 'base64'
  const system = raw.Attributes ?? {}
  const receives = Number(system.ApproximateReceiveCount ?? 0)
  const sent = Number(system.SentTimestamp)
  const message: Message = {
    id: raw.MessageId ?? '',
    queue,
    name: attributes[ATTR_NAME]?.StringValue,
    payload: base64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
    contentType: attributes[ATTR_CONTENT_TYPE]?.StringValue,
    headers,
    // A peek is a receive too: it is not counted as a delivery here, though SQS counted it.
    attempts: Math.max(0, peeked ? receives - 1 : receives),
    state,
    enqueuedAt: Number.isFinite(sent) && sent > 0 ? sent : undefined,
    lastError: attributes[ATTR_ERROR]?.StringValue,
    raw,
  }
  if (system.MessageGroupId) message.groupId = system.MessageGroupId
  return message
}

/** Message attributes to carry over when re-sending a received message (DLQ moves). */
export function carriedAttributes(raw: SqsMessage, error?: string): Attributes {
  const out: Attributes = {}
  for (const [key, value] of Object.entries(raw.MessageAttributes ?? {})) {
    if (key === ATTR_ERROR) continue
    out[key] = {DataType: value.DataType, StringValue: value.StringValue, BinaryValue: value.BinaryValue}
  }
  // Only when it fits: a message already at the attribute limit keeps its own attributes instead.
  if (error !== undefined && Object.keys(out).length < SQS_MAX_ATTRIBUTES) {
    const clean = error.replace(new RegExp(INVALID_CHAR.source, 'gu'), ' ').slice(0, 1024) || 'dead-lettered'
    out[ATTR_ERROR] = stringAttr(clean)
  }
  return out
}
