// RQ's job hash (checked against RQ 1.13; RQ 2.x fields from its rq/job.py to_dict) as a Message. The hash `rq:job:<id>` holds readable
// metadata (status, origin, description such as `app.tasks.send('a', 1)`, ISO timestamps, timeout,
// worker_name) and two pickled fields: `data` (zlib-compressed pickle of the call) and `meta`.
// Pickles are NEVER unpickled: `data` is kept as opaque bytes and only its size is shown. The
// exception text lives in `exc_info` (zlib-compressed text) or, since RQ 1.12, in the results
// stream `rq:results:<id>` (`exc_string`: base64 of zlib-compressed text).
import {inflateSync} from 'node:zlib'
import type {Message, MessageState} from '../../../broker/contract.js'

const RQ_DATA_CONTENT_TYPE = 'application/x-python-pickle; compression=zlib'

const text = (v: Buffer | undefined) => (v === undefined || v.length === 0 ? undefined : v.toString('utf8'))

/** RQ timestamps: `2026-11-25T13:21:47.684864Z` (UTC, microseconds). */
export function rqTime(v: Buffer | undefined): number | undefined {
  const s = text(v)
  if (!s) return undefined
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`)
  return Number.isFinite(ms) ? ms : undefined
}

/** zlib-compressed text, or plain text from older RQ. */
export function rqExcText(v: Buffer | undefined): string | undefined {
  if (!v || v.length === 0) return undefined
  try {
    return inflateSync(v).toString('utf8')
  } catch {
    return v.toString('utf8')
  }
}

/** `exc_string` from a results stream entry: base64 of zlib-compressed text. */
export function rqResultExc(b64: string | undefined): string | undefined {
  if (!b64) return undefined
  try {
    return inflateSync(Buffer.from(b64, 'base64')).toString('utf8')
  } catch {
    return undefined
  }
}

/** `mod.func('a', 1)` → `mod.func` (the description is the call as RQ wrote it). */
export function rqFunctionName(description: string | undefined): string | undefined {
  if (!description) return undefined
  const open = description.indexOf('(')
  return (open > 0 ? description.slice(0, open) : description).trim() || undefined
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n')
  return lines[lines.length - 1]!.trim()
}

/**
 * `hash` is HGETALL of rq:job:<id> as Buffers (empty when the hash is gone); `score` is the
 * registry score (seconds) where there is one; `resultExc` the exception from the results stream.
 */
export function rqJobToMessage(id: string, hash: Record<string, Buffer>, queue: string, state: MessageState, score?: number, resultExc?: string): Message {
  const message: Message = {id, queue, payload: Buffer.alloc(0), headers: {}, attempts: 0, state}
  if (Object.keys(hash).length === 0) {
    message.undecodable = `the job hash rq:job:${id} is gone (expired or deleted) — only its id is left in the queue`
    return message
  }
  const description = text(hash.description)
  const data = hash.data ?? Buffer.alloc(0)
  const exception = rqExcText(hash.exc_info) ?? resultExc
  message.name = rqFunctionName(description)
  message.payload = data
  message.contentType = RQ_DATA_CONTENT_TYPE
  message.enqueuedAt = rqTime(hash.enqueued_at) ?? rqTime(hash.created_at)
  if (state === 'delayed' && score !== undefined) message.availableAt = Math.round(score * 1000)
  if (exception) message.lastError = lastLine(exception)
  const started = rqTime(hash.started_at)
  // RQ 2 counts the retries it made (number_of_retries); RQ 1 only says whether it started
  const retries = Number(text(hash.number_of_retries) ?? 0) || 0
  if (started !== undefined) message.attempts = 1 + retries
  for (const key of ['status', 'origin', 'worker_name', 'timeout', 'result_ttl', 'failure_ttl', 'retries_left', 'number_of_retries', 'repeats_left', 'group_id']) {
    const v = text(hash[key])
    if (v !== undefined) message.headers[key] = v
  }
  message.body = {
    func: message.name,
    description,
    status: text(hash.status),
    origin: text(hash.origin),
    createdAt: text(hash.created_at),
    enqueuedAt: text(hash.enqueued_at),
    startedAt: text(hash.started_at),
    endedAt: text(hash.ended_at),
    lastHeartbeat: text(hash.last_heartbeat),
    timeout: text(hash.timeout),
    workerName: text(hash.worker_name),
    exception,
    // the call itself is a pickle: its size only, never its contents
    data: `pickled call, ${data.length} bytes (not unpickled)`,
  }
  message.raw = Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, k === 'data' || k === 'meta' ? `<pickle, ${v.length} bytes>` : k === 'exc_info' ? rqExcText(v) : v.toString('utf8')]))
  return message
}
