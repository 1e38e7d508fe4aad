// Kafka records ↔ queuectl messages. A record's id is PARTITION:OFFSET; its name and content
// type travel in headers (queuectl-name, content-type); deliveries so far in queuectl-attempts.
// No body is set: a Kafka record says nothing of JSON, and the runtime (withBody) and the services
// (bodyOf) decode a JSON payload when it is read — parsing every record here cost the consumer
// more than anything else of ours in a profile of `queue bench`.
import type {Message, MessageState, OutgoingMessage} from '../../broker/contract.js'
import {HEADER} from './names.js'
import type {RawRecord} from './offsets.js'

const NAME = 'queuectl-name'
const CONTENT_TYPE = 'content-type'

export function toMessage(queue: string, r: RawRecord, state: MessageState, delivered: boolean): Message {
  const payload = r.value ?? Buffer.alloc(0)
  const previous = Number(r.headers[HEADER.attempts] ?? 0) || 0
  const name = r.headers[NAME]
  let headers = r.headers
  if (name !== undefined) {
    headers = {...r.headers}
    delete headers[NAME]
  }
  const offset = String(r.offset)
  return {
    id: `${r.partition}:${offset}`,
    queue,
    name,
    payload,
    contentType: r.headers[CONTENT_TYPE],
    headers,
    attempts: previous + (delivered ? 1 : 0),
    state,
    enqueuedAt: r.timestamp,
    groupId: r.key ? r.key.toString('utf8') : undefined,
    lastError: r.headers[HEADER.reason],
    raw: {topic: r.topic, partition: r.partition, offset, timestamp: r.timestamp, key: r.key?.toString('utf8') ?? null},
  }
}

export interface OutRecord {
  topic: string
  partition?: number
  key?: Buffer
  value: Buffer
  headers: Record<string, string>
}

export function toRecord(topic: string, m: OutgoingMessage, partition?: number): OutRecord {
  const headers: Record<string, string> = {...m.headers}
  if (m.name) headers[NAME] = m.name
  if (m.contentType) headers[CONTENT_TYPE] = m.contentType
  const r: OutRecord = {topic, value: Buffer.isBuffer(m.payload) ? m.payload : Buffer.from(m.payload), headers}
  if (partition !== undefined) r.partition = partition
  if (m.groupId) r.key = Buffer.from(m.groupId)
  return r
}

/** The record again, as a new record for `topic` (retry, dead letter), with `extra` headers. */
export function republished(topic: string, r: RawRecord, extra: Record<string, string>): OutRecord {
  return {topic, ...(r.key ? {key: r.key} : {}), value: r.value ?? Buffer.alloc(0), headers: {...r.headers, ...extra}}
}
