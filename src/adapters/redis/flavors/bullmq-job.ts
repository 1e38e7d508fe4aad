// BullMQ jobs ↔ Messages. The payload becomes the job's `data` so that BullMQ workers see what
// they expect: canonical JSON is stored as the object itself; other UTF-8 text as a string; other
// bytes as base64. How to turn `data` back into the exact bytes, plus headers and content type,
// rides in the job options under `queuectl` (BullMQ keeps unknown option keys).
import type {Job, JobsOptions} from 'bullmq'
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'
import {addJobSchedule, undecodableJobHash} from './job-hash.js'

/** BullMQ's highest allowed priority number (1 is served first, 0 means none). */
import {BULLMQ_PRIORITY_LIMIT} from './detect.js'

export {BULLMQ_PRIORITY_LIMIT}

interface QueuectlOpts {
  headers?: Record<string, string>
  ct?: string
  enc?: 'text' | 'base64'
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** Contract priority (higher first, 1…LIMIT) → BullMQ priority (1 first). */
export const toBullPriority = (p: number) => BULLMQ_PRIORITY_LIMIT + 1 - p
export const fromBullPriority = (p: number) => BULLMQ_PRIORITY_LIMIT + 1 - p

export function toJob(message: OutgoingMessage): {name: string; data: unknown; opts: JobsOptions} {
  const payload = typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload
  const extra: QueuectlOpts = {}
  let data: unknown
  let text: string | undefined
  try {
    text = utf8.decode(payload)
  } catch {
    text = undefined
  }
  const jsonish = !message.contentType || /json/i.test(message.contentType)
  let parsed: unknown
  if (text !== undefined && jsonish) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
  }
  if (parsed !== undefined && JSON.stringify(parsed) === text) data = parsed
  else if (text !== undefined) {
    data = text
    extra.enc = 'text'
  } else {
    data = payload.toString('base64')
    extra.enc = 'base64'
  }
  if (message.headers && Object.keys(message.headers).length > 0) extra.headers = message.headers
  if (message.contentType) extra.ct = message.contentType
  const opts: JobsOptions & {queuectl?: QueuectlOpts} = {}
  if (Object.keys(extra).length > 0) opts.queuectl = extra
  if (message.delayMs) opts.delay = message.delayMs
  if (message.priority !== undefined) opts.priority = toBullPriority(message.priority)
  if (message.dedupId) opts.jobId = message.dedupId
  return {name: message.name ?? 'default', data, opts}
}

export function fromJob(queue: string, job: Job, state: MessageState): Message {
  const extra = ((job.opts as {queuectl?: QueuectlOpts}).queuectl ?? {}) as QueuectlOpts
  let payload: Buffer | undefined
  let body: unknown
  if (extra.enc === 'base64' && typeof job.data === 'string') payload = Buffer.from(job.data, 'base64')
  else if (extra.enc === 'text' && typeof job.data === 'string') payload = Buffer.from(job.data, 'utf8')
  else body = job.data
  const message: Message = {
    id: String(job.id),
    queue,
    name: job.name,
    payload: payload ?? Buffer.alloc(0),
    headers: extra.headers ?? {},
    attempts: job.attemptsStarted ?? job.attemptsMade ?? 0,
    state,
    // BullMQ parses the hash's timestamp with parseInt: anything else comes back NaN
    enqueuedAt: Number.isFinite(job.timestamp) ? job.timestamp : undefined,
  }
  // the native form only when someone reads it (--raw): serialising every job costs on consume
  Object.defineProperty(message, 'raw', {get: () => job.asJSON(), enumerable: true, configurable: true})
  if (payload === undefined) {
    // JSON data: the bytes are its serialisation, made only when someone reads them
    let bytes: Buffer | undefined
    Object.defineProperty(message, 'payload', {get: () => (bytes ??= Buffer.from(JSON.stringify(job.data ?? null), 'utf8')), enumerable: true, configurable: true})
  }
  if (body !== undefined) message.body = body
  if (extra.ct) message.contentType = extra.ct
  else if (body !== undefined) message.contentType = 'application/json'
  // a job a job scheduler made (upsertJobScheduler): name the scheduler it came from
  if (job.repeatJobKey) message.headers = {...message.headers, scheduler: job.repeatJobKey}
  return addJobSchedule(message, job, job.priority, fromBullPriority)
}

/** A job hash BullMQ itself cannot read: listed anyway, with the reason. */
export const undecodableJob = (queue: string, id: string, state: MessageState, hash: Record<string, string>, reason: string): Message =>
  undecodableJobHash(queue, id, state, hash, reason, hash.ats ?? hash.attemptsMade)
