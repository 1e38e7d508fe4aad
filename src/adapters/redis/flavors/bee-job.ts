// Bee-Queue (v1/v2) jobs ↔ Messages. A job is one field of the hash <prefix>:<queue>:jobs, its
// id → JSON.stringify({data, options, status, progress}) as bee-queue's Job#toData writes it;
// options hold timestamp (ms), stacktraces (newest first), and where set retries, timeout,
// backoff, delay (an absolute time in ms). Bee-Queue has no job name and no delivery count: a
// name rides under options.queuectl (./node-job-data.ts), and so do queuectl's hand-backs.
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'
import {decodeData, encodeDataWithJson, extraOf, type QueuectlExtra} from './node-job-data.js'

export interface BeeJob {
  data?: unknown
  options?: Record<string, unknown> & {timestamp?: number; stacktraces?: string[]; delay?: number; queuectl?: QueuectlExtra}
  status?: string
  progress?: unknown
}

export function parseBeeJob(json: string): BeeJob | undefined {
  try {
    const value: unknown = JSON.parse(json)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as BeeJob) : undefined
  } catch {
    return undefined
  }
}

/** The job as bee-queue's `queue.createJob(data).setId(id).delayUntil(at).save()` stores it. */
export function encodeBeeJob(message: OutgoingMessage, now = Date.now()): {id: string; json: string; at: number} {
  const {dataJson, extra} = encodeDataWithJson(message)
  if (message.name) extra.name = message.name
  const options: BeeJob['options'] = {timestamp: now, stacktraces: []}
  const at = message.delayMs && message.delayMs > 0 ? now + message.delayMs : 0
  if (at > 0) options.delay = at
  if (Object.keys(extra).length > 0) options.queuectl = extra
  // the bytes of JSON.stringify({data, options, status: 'created', progress: 0}), the data spliced in as encoded once
  return {id: message.dedupId ?? '', json: `{"data":${dataJson},"options":${JSON.stringify(options)},"status":"created","progress":0}`, at}
}

/** The stored JSON after a queuectl consumer settled the job (as bee's own _finishJob rewrites it). */
export function settledBeeJob(json: string, status: string, reason?: string, requeued = false): string {
  const job = parseBeeJob(json)
  if (!job) return json // not ours to repair: keep it as it was
  const options = (job.options ??= {})
  job.status = status
  if (reason !== undefined) options.stacktraces = [reason, ...(Array.isArray(options.stacktraces) ? options.stacktraces : [])]
  if (requeued) options.queuectl = {...extraOf(options), requeues: (extraOf(options).requeues ?? 0) + 1}
  return JSON.stringify(job)
}

const firstLine = (s: unknown) => (typeof s === 'string' ? s.split('\n')[0]!.trim() : undefined)

/** `json` is the field of the jobs hash (null when gone); `score` the delayed set's score (ms). */
export function beeJobToMessage(queue: string, id: string, json: string | null, state: MessageState, score?: number): Message {
  const message: Message = {id, queue, payload: Buffer.alloc(0), headers: {}, attempts: 0, state}
  if (score !== undefined) message.availableAt = score
  if (json === null) {
    message.undecodable = `job ${id} has no data in the jobs hash (removed) — only its id is left`
    return message
  }
  const job = parseBeeJob(json)
  if (!job) {
    message.payload = Buffer.from(json, 'utf8')
    message.undecodable = `job ${id} is not bee-queue's job JSON`
    message.raw = json
    return message
  }
  const options = job.options ?? {}
  const extra = extraOf(options)
  Object.assign(message, decodeData(job.data, extra))
  const failures = Array.isArray(options.stacktraces) ? options.stacktraces.length : 0
  message.attempts = failures + (extra.requeues ?? 0) + (state === 'inflight' ? 1 : 0)
  if (extra.name) message.name = extra.name
  if (extra.headers) message.headers = extra.headers
  if (typeof options.timestamp === 'number') message.enqueuedAt = options.timestamp
  if (message.availableAt === undefined && typeof options.delay === 'number' && state === 'delayed') message.availableAt = options.delay
  const lastError = failures > 0 ? firstLine(options.stacktraces![0]) : undefined
  if (lastError) message.lastError = lastError
  message.raw = job
  return message
}
