// pg-boss job rows ↔ Messages, and outgoing messages → the records its insert() takes.
import {createHash, randomFillSync} from 'node:crypto'
import type {Message, MessageState, OutgoingMessage} from '../../broker/contract.js'
import {applyDecoded, decodeData, encodeDataJson} from './codec.js'

export interface PgbossRow {
  id: string
  name: string
  priority: number
  data: unknown
  state: string
  retry_count: number
  retry_limit: number
  start_after: Date
  started_on: Date | null
  created_on: Date
  completed_on: Date | null
  singleton_key: string | null
  output: unknown
  dead_letter: string | null
  policy: string | null
  expire_seconds: string | number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const isUuid = (id: string) => UUID.test(id)

let lastMs = 0
let seq = 0

// random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids, not one per id (as randomUUID caches)
const POOL = Buffer.alloc(4096)
let poolAt = POOL.length
function randomInto(target: Buffer): void {
  if (poolAt + target.length > POOL.length) {
    randomFillSync(POOL)
    poolAt = 0
  }
  POOL.copy(target, 0, poolAt, poolAt + target.length)
  // used bytes are not handed out twice
  poolAt += target.length
}

/**
 * A UUIDv7, increasing within this process: one batch shares pg-boss's created_on (one
 * transaction), and its fetch orders ties by id, so time-ordered ids keep the batch FIFO.
 */
export function orderedUuid(now = Date.now()): string {
  if (now <= lastMs) {
    seq++
    if (seq > 0xfff) {
      lastMs++
      seq = 0
    }
  } else {
    lastMs = now
    seq = 0
  }
  const bytes = Buffer.allocUnsafe(16)
  randomInto(bytes)
  bytes.writeUIntBE(lastMs, 0, 6)
  bytes[6] = 0x70 | (seq >> 8)
  bytes[7] = seq & 0xff
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** A stable job id for a dedup id, so the same one twice hits pg-boss's (name, id) key. */
export function idFor(queue: string, dedupId: string | undefined): string {
  if (!dedupId) return orderedUuid()
  if (isUuid(dedupId)) return dedupId.toLowerCase()
  const hex = createHash('sha1').update(`queuectl\0${queue}\0${dedupId}`).digest('hex')
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The record pg-boss's insertJobs reads (json_to_recordset), as JSON text, and its id. */
export function toRecord(queue: string, message: OutgoingMessage): {id: string; json: string; dedup: boolean} {
  const id = idFor(queue, message.dedupId)
  const data = encodeDataJson(message, {library: 'pg-boss', queue: `pgboss:${queue}`, nameIs: 'the queue name'})
  let json = `{"id":"${id}","name":${JSON.stringify(queue)},"data":${data}`
  if (message.priority !== undefined) json += `,"priority":${Math.trunc(message.priority)}`
  if (message.delayMs && message.delayMs > 0) json += `,"startAfter":"${Math.round(message.delayMs)} milliseconds"`
  if (message.dedupId) json += `,"singletonKey":${JSON.stringify(message.dedupId)}`
  return {id, json: `${json}}`, dedup: Boolean(message.dedupId)}
}

export function stateOf(row: PgbossRow, now: number): MessageState {
  switch (row.state) {
    case 'created':
    case 'retry': // its workers fetch it like a created job
      return row.start_after.getTime() > now ? 'delayed' : 'waiting'
    case 'active':
      return 'inflight'
    case 'completed':
      return 'completed'
    default:
      return 'dead' // failed, cancelled
  }
}

/** What pg-boss's fail() stored as output: an Error serialised, or {value: …}. */
function errorText(output: unknown): string | undefined {
  if (output === null || output === undefined) return undefined
  if (typeof output !== 'object') return String(output)
  const o = output as {message?: unknown; value?: unknown}
  if (typeof o.message === 'string') return o.message
  if (o.value !== undefined) {
    const v = o.value as {message?: unknown}
    if (v && typeof v === 'object' && typeof v.message === 'string') return v.message
    return typeof o.value === 'string' ? o.value : JSON.stringify(o.value)
  }
  return JSON.stringify(output)
}

export function toMessage(queue: string, row: PgbossRow, now = Date.now()): Message {
  const state = stateOf(row, now)
  const message: Message = {
    id: row.id,
    queue,
    payload: Buffer.alloc(0),
    headers: {},
    attempts: row.started_on ? row.retry_count + 1 : 0,
    state,
    priority: row.priority,
    enqueuedAt: row.created_on.getTime(),
  }
  applyDecoded(message, decodeData(row.data))
  if (row.start_after.getTime() > now) message.availableAt = row.start_after.getTime()
  if (row.state === 'failed' || row.state === 'retry' || row.state === 'cancelled') {
    message.lastError = row.state === 'cancelled' ? 'cancelled' : errorText(row.output)
  }
  message.raw = row
  return message
}
