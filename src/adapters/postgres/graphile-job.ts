// graphile-worker job rows ↔ Messages. The queue is the task identifier (what its workers run);
// a named queue (queue_name, run one at a time) is the message group; priority is negated
// (graphile-worker runs lower numbers first, the contract higher first).
import type {Message, MessageState, OutgoingMessage} from '../../broker/contract.js'
import {applyDecoded, decodeData, encodeDataJson} from './codec.js'

export interface GraphileRow {
  id: string
  job_queue_id: number | null
  queue_name: string | null
  payload: unknown
  priority: number
  run_at: Date
  attempts: number
  max_attempts: number
  last_error: string | null
  created_at: Date
  key: string | null
  locked_at: Date | null
  locked_by: string | null
  flags: unknown
}

export function stateOf(row: GraphileRow, now: number): MessageState {
  if (row.locked_at) return 'inflight'
  if (row.attempts >= row.max_attempts) return 'dead'
  // a revived job (attempts set back to 0) keeps its last_error but is not failing
  if (row.last_error !== null && row.attempts > 0) return 'retry'
  return row.run_at.getTime() > now ? 'delayed' : 'waiting'
}

export function toMessage(queue: string, row: GraphileRow, now = Date.now()): Message {
  const message: Message = {
    id: row.id,
    queue,
    payload: Buffer.alloc(0),
    headers: {},
    attempts: row.attempts,
    state: stateOf(row, now),
    priority: -row.priority || 0,
    enqueuedAt: row.created_at.getTime(),
  }
  applyDecoded(message, decodeData(row.payload))
  if (row.queue_name) message.groupId = row.queue_name
  if (row.run_at.getTime() > now) message.availableAt = row.run_at.getTime()
  if (row.last_error !== null) message.lastError = row.last_error
  message.raw = row
  return message
}

/** The job_spec add_jobs takes, as JSON text. */
export function toSpec(task: string, message: OutgoingMessage, now: number): string {
  const payload = encodeDataJson(message, {library: 'graphile-worker', queue: `graphile:${task}`, nameIs: 'the task identifier'})
  let json = `{"identifier":${JSON.stringify(task)},"payload":${payload}`
  if (message.groupId) json += `,"queue_name":${JSON.stringify(message.groupId)}`
  if (message.delayMs && message.delayMs > 0) json += `,"run_at":"${new Date(now + message.delayMs).toISOString()}"`
  if (message.dedupId) json += `,"job_key":${JSON.stringify(message.dedupId)}`
  if (message.priority) json += `,"priority":${-Math.trunc(message.priority)}`
  return `${json}}`
}
