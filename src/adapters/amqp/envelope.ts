// AMQP messages ↔ the queuectl envelope. Our own conventions on the wire: message_id = the id we
// return, type = the message name, timestamp = enqueue time (AMQP timestamps are whole seconds),
// header x-queuectl-error = why we dead-lettered it, x-queuectl-attempts = failed attempts before
// this copy (a failed attempt is requeued as a copy carrying it: attempts.ts). Celery
// tasks (protocol-2 headers) are decoded.
import {randomUUID} from 'node:crypto'
import type {Message as AmqpMessage, Options} from 'amqplib'
import type {Message, MessageState, OutgoingMessage} from '../../broker/contract.js'
import {celeryArgsFromPayload, celeryHeadersFromText, decodeCeleryTask, encodeCeleryTask, isCeleryTaskHeaders} from '../formats/celery.js'
import {UsageError} from '../../kernel/errors.js'

export const ERROR_HEADER = 'x-queuectl-error'
export const DEAD_FROM_HEADER = 'x-queuectl-dead-from'
export const ATTEMPTS_HEADER = 'x-queuectl-attempts'

function headerText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
  return String(value)
}

/**
 * Failed attempts before this delivery: only those our worker recorded on its copy
 * (x-queuectl-attempts). RabbitMQ's redelivered flag and quorum x-delivery-count are raised by a
 * peek's requeue exactly as by a consumer that died, so neither counts (attempts.ts has the rule).
 */
function previousDeliveries(msg: AmqpMessage): number {
  const recorded = Number(headerText(msg.properties.headers?.[ATTEMPTS_HEADER]))
  return Number.isSafeInteger(recorded) && recorded > 0 ? recorded : 0
}

/** `delivered` is true for a consumed message (this delivery counts), false for a peek. */
export function toMessage(msg: AmqpMessage, queue: string, state: MessageState, delivered: boolean): Message {
  const p = msg.properties
  const rawHeaders = (p.headers ?? {}) as Record<string, unknown>
  const headers: Record<string, string> = {}
  // amqplib decodes headers into a plain object: for-in walks its own keys, without an entries array a message
  for (const k in rawHeaders) headers[k] = headerText(rawHeaders[k])
  const deaths = rawHeaders['x-death'] as {reason?: string}[] | undefined
  const message: Message = {
    id: p.messageId ? String(p.messageId) : p.correlationId ? String(p.correlationId) : `delivery-${msg.fields.deliveryTag}`,
    queue,
    name: p.type ? String(p.type) : undefined,
    payload: msg.content,
    contentType: p.contentType ? String(p.contentType) : undefined,
    headers,
    attempts: previousDeliveries(msg) + (delivered ? 1 : 0),
    state,
    priority: typeof p.priority === 'number' ? p.priority : undefined,
    enqueuedAt: typeof p.timestamp === 'number' ? p.timestamp * 1000 : undefined,
    lastError: headers[ERROR_HEADER] || headers['x-first-death-reason'] || deaths?.[0]?.reason || undefined,
    raw: {fields: msg.fields, properties: p},
  }
  if (isCeleryTaskHeaders(rawHeaders)) {
    const decoded = decodeCeleryTask(rawHeaders, msg.content, message.contentType)
    if ('error' in decoded) message.undecodable = decoded.error
    else {
      const t = decoded.task
      message.id = t.id
      message.name = t.task
      message.body = {args: t.args, kwargs: t.kwargs, retries: t.retries, eta: t.eta, expires: t.expires, rootId: t.rootId, parentId: t.parentId, origin: t.origin}
      if (t.eta) message.availableAt = Date.parse(t.eta)
    }
  }
  return message
}

export interface Outgoing {
  id: string
  content: Buffer
  options: Options.Publish
  delayMs?: number
  /** A Celery task's countdown (its eta is in the headers): Celery 5.5's native delayed delivery may route it through the delay exchanges. */
  celeryDelayMs?: number
}

/** Prepares a message for publishing: persistent, with an id, name, time and (for Celery) the task headers. */
export function toOutgoing(m: OutgoingMessage, index: number, flavor: 'celery' | undefined): Outgoing {
  const now = Date.now()
  const options: Options.Publish = {
    persistent: true,
    mandatory: true,
    timestamp: Math.floor(now / 1000),
  }
  if (m.headers) options.headers = {...m.headers}
  if (m.priority !== undefined) options.priority = m.priority
  // already a Celery task (move, retry, import, even with ?flavor=celery): sent as it is, not wrapped again
  if (m.headers && isCeleryTaskHeaders(m.headers)) return celeryCopy(m, m.headers, options)
  if (flavor === 'celery') {
    if (!m.name) throw new UsageError(`message ${index + 1} has no task name — a Celery message needs one (the registered task, e.g. proj.tasks.add)`)
    let call: {args: unknown[]; kwargs: Record<string, unknown>}
    try {
      call = celeryArgsFromPayload(m.payload)
    } catch (error) {
      throw new UsageError(`message ${index + 1}: ${(error as Error).message}`)
    }
    const task = encodeCeleryTask({task: m.name, ...call, eta: m.delayMs ? now + m.delayMs : undefined})
    Object.assign(options, {
      messageId: task.id,
      correlationId: task.properties.correlationId,
      contentType: task.properties.contentType,
      contentEncoding: task.properties.contentEncoding,
      headers: {...m.headers, ...task.headers},
    })
    // Celery holds an eta task itself, so the broker delivers it at once: no delayed-message plugin
    return {id: task.id, content: task.body, options, celeryDelayMs: m.delayMs && m.delayMs > 0 ? m.delayMs : undefined}
  }
  // a moved or retried message keeps its message-id; delivery-N is our stand-in for one it lacked
  const id = m.messageId && !/^delivery-\d+$/.test(m.messageId) ? m.messageId : randomUUID()
  options.messageId = id
  if (m.name) options.type = m.name
  if (m.contentType) options.contentType = m.contentType
  const content = typeof m.payload === 'string' ? Buffer.from(m.payload, 'utf8') : m.payload
  return {id, content, options, delayMs: m.delayMs && m.delayMs > 0 ? m.delayMs : undefined}
}

/** A Celery task sent again as it is (move, retry, import): its headers in the types Celery wrote, its id as correlation id. */
function celeryCopy(m: OutgoingMessage, headers: Record<string, string>, options: Options.Publish): Outgoing {
  const id = headers.id!
  Object.assign(options, {
    messageId: id,
    correlationId: id,
    contentType: m.contentType,
    // kombu decodes the body with it; Celery always sends utf-8
    contentEncoding: 'utf-8',
    headers: celeryHeadersFromText(headers),
  })
  const content = typeof m.payload === 'string' ? Buffer.from(m.payload, 'utf8') : m.payload
  // an eta still ahead: Celery 5.5 would send it through its delay queues again, where the vhost has them
  const due = headers.eta ? Date.parse(headers.eta) - Date.now() : NaN
  return {id, content, options, celeryDelayMs: due > 0 ? due : undefined}
}
