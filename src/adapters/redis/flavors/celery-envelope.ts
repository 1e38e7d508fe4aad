// kombu's Redis envelope around a Celery message, both ways. Each list item (and each value of the
// `unacked` hash, as [envelope, exchange, routing_key]) is JSON:
//   {body, content-encoding, content-type, headers, properties: {correlation_id, reply_to,
//    delivery_mode, delivery_info: {exchange, routing_key}, priority, body_encoding, delivery_tag}}
// with the body base64-encoded when properties.body_encoding is 'base64' (kombu always does). The
// task inside (protocol 2 headers + body) is Celery's, decoded by ../../formats/celery.ts.
import {createHash, randomUUID} from 'node:crypto'
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'
import {UsageError} from '../../../kernel/errors.js'
import {celeryArgsFromPayload, celeryHeadersFromText, decodeCeleryTask, encodeCeleryTask, isCeleryTaskHeaders} from '../../formats/celery.js'

/** kombu's separator in binding members and priority sub-queue names (`emails\x06\x163`). */
export {KOMBU_SEP, bindingQueue, isControlExchange} from './detect.js'

export interface KombuEnvelope {
  body?: unknown
  'content-encoding'?: string
  'content-type'?: string
  headers?: Record<string, unknown>
  properties?: {
    correlation_id?: string
    reply_to?: string
    delivery_mode?: number
    delivery_info?: {exchange?: string; routing_key?: string}
    priority?: number
    body_encoding?: string
    delivery_tag?: string
  }
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}

/** Turns one stored item (a list element, or the first element of an unacked value) into a Message. */
export function envelopeToMessage(raw: Buffer, queue: string, state: MessageState, delivered = false): Message {
  const fallbackId = createHash('sha1').update(raw).digest('hex').slice(0, 20)
  let envelope: unknown
  try {
    envelope = JSON.parse(raw.toString('utf8'))
  } catch (error) {
    return {id: fallbackId, queue, payload: raw, headers: {}, attempts: 0, state, undecodable: `not a kombu message: the list item is not JSON (${(error as Error).message})`, raw: raw.toString('utf8')}
  }
  if (!isObject(envelope) || !('body' in envelope) || !isObject(envelope.properties ?? {})) {
    return {id: fallbackId, queue, payload: raw, headers: {}, attempts: 0, state, undecodable: 'not a kombu message: no body/properties in the JSON', raw: envelope}
  }
  return decodedEnvelope(envelope as KombuEnvelope, fallbackId, queue, state, delivered)
}

function decodedEnvelope(env: KombuEnvelope, fallbackId: string, queue: string, state: MessageState, delivered: boolean): Message {
  const props = env.properties ?? {}
  const rawHeaders = isObject(env.headers) ? env.headers : {}
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(rawHeaders)) headers[k] = headerText(v)
  const bodyText = typeof env.body === 'string' ? env.body : JSON.stringify(env.body ?? '')
  const payload = props.body_encoding === 'base64' ? Buffer.from(bodyText, 'base64') : Buffer.from(bodyText, 'utf8')
  const contentType = env['content-type']
  const retries = Number(rawHeaders.retries ?? 0) || 0
  const message: Message = {
    // protocol-2 headers are JSON even when the body is pickled: name and id still show
    id: typeof rawHeaders.id === 'string' ? rawHeaders.id : (props.correlation_id ?? props.delivery_tag ?? fallbackId),
    queue,
    name: typeof rawHeaders.task === 'string' ? rawHeaders.task : undefined,
    payload,
    contentType,
    headers,
    attempts: retries + (delivered ? 1 : 0),
    state,
    priority: typeof props.priority === 'number' ? props.priority : undefined,
    raw: env,
  }
  const decoded = decodeCeleryTask(rawHeaders, payload, contentType)
  if ('error' in decoded) {
    message.undecodable = decoded.error
    return message
  }
  const t = decoded.task
  message.id = t.id
  message.name = t.task
  message.attempts = t.retries + (delivered ? 1 : 0)
  message.body = {args: t.args, kwargs: t.kwargs, retries: t.retries, eta: t.eta, expires: t.expires, rootId: t.rootId, parentId: t.parentId, origin: t.origin}
  if (t.eta) {
    const at = Date.parse(t.eta)
    if (Number.isFinite(at)) message.availableAt = at
  }
  return message
}

/**
 * Checks every message before anything is sent (a task name, JSON arguments Celery can take) and
 * builds kombu envelopes exactly as kombu's Redis transport writes them for `queue`.
 */
export function encodeForCelery(queue: string, messages: OutgoingMessage[], now = Date.now()): {ids: string[]; items: string[]} {
  const ids: string[] = []
  const items: string[] = []
  messages.forEach((m, i) => {
    const which = messages.length > 1 ? `message ${i + 1}: ` : ''
    if (!m.name) throw new UsageError(`${which}a Celery task needs its registered name — add --name (e.g. --name proj.tasks.add)`)
    if (m.dedupId !== undefined) throw new UsageError(`${which}Celery queues have no deduplication ids — drop --dedup-id`)
    if (m.priority !== undefined) throw new UsageError(`${which}queuectl does not set Celery priorities on Redis (kombu reverses them: 0 is served first) — send without --priority`)
    // a task sent again (import, a move from RabbitMQ): its body and headers as they were, not the body as args
    if (m.headers && isCeleryTaskHeaders(m.headers)) {
      ids.push(m.headers.id!)
      items.push(JSON.stringify(kombuEnvelope(queue, m.headers.id!, celeryHeadersFromText(m.headers), Buffer.from(m.payload), m.contentType ?? 'application/json')))
      return
    }
    let call: {args: unknown[]; kwargs: Record<string, unknown>}
    try {
      call = celeryArgsFromPayload(m.payload)
    } catch (error) {
      throw new UsageError(`${which}${(error as Error).message} — nothing was sent`)
    }
    const task = encodeCeleryTask({task: m.name, ...call, eta: m.delayMs ? now + m.delayMs : undefined})
    ids.push(task.id)
    items.push(JSON.stringify(kombuEnvelope(queue, task.id, {...m.headers, ...task.headers}, task.body, task.properties.contentType)))
  })
  return {ids, items}
}

/** One list item as kombu's Redis transport writes it for `queue`. */
function kombuEnvelope(queue: string, id: string, headers: Record<string, unknown>, body: Buffer, contentType: string): KombuEnvelope {
  return {
    body: body.toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': contentType,
    headers,
    properties: {
      correlation_id: id,
      delivery_mode: 2,
      delivery_info: {exchange: '', routing_key: queue},
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  }
}

/** The queue an `unacked` value belongs to: [envelope, exchange, routing_key]. */
export function unackedTarget(value: Buffer): {envelope: Buffer; exchange: string; routingKey: string} | undefined {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as unknown
    if (!Array.isArray(parsed) || parsed.length < 3) return undefined
    return {envelope: Buffer.from(JSON.stringify(parsed[0]), 'utf8'), exchange: String(parsed[1] ?? ''), routingKey: String(parsed[2] ?? '')}
  } catch {
    return undefined
  }
}

