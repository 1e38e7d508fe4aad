// Sidekiq's job JSON (checked against Sidekiq 6.4), both ways. A job is one JSON object:
//   class, args, jid (12 random bytes, hex), queue, retry, created_at, enqueued_at (float seconds)
//   and after a failure error_message, error_class, failed_at, retry_count, retried_at.
// Anything else a job carries (middleware fields, ActiveJob's `wrapped`, tags…) is kept as is:
// the decoded body is the whole object, and a retry writes every field back.
import {randomBytes} from 'node:crypto'
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'
import {UsageError} from '../../../kernel/errors.js'

export type SidekiqJob = Record<string, unknown> & {class?: unknown; args?: unknown; jid?: unknown; queue?: unknown}

export function parseSidekiqJob(raw: Buffer | string): {job: SidekiqJob} | {error: string} {
  let value: unknown
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'))
  } catch (error) {
    return {error: `not a Sidekiq job: not JSON (${(error as Error).message})`}
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {error: 'not a Sidekiq job: not a JSON object'}
  return {job: value as SidekiqJob}
}

/** The queue a job in a global set (schedule, retry, dead) belongs to, read cheaply. */
export function queueOfJob(raw: string): string | undefined {
  const parsed = parseSidekiqJob(raw)
  return 'job' in parsed && typeof parsed.job.queue === 'string' ? parsed.job.queue : undefined
}

/** Fields Sidekiq itself writes into a job; any other string field is a header (middleware, or queuectl's --header). */
const SIDEKIQ_FIELDS = new Set(['class', 'args', 'jid', 'queue', 'retry', 'wrapped', 'created_at', 'enqueued_at', 'at', 'error_message', 'error_class', 'failed_at', 'retried_at', 'retry_count', 'backtrace', 'dead'])

const seconds = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) : undefined)

/** `score` is the sorted-set score (seconds) for scheduled, retry and dead jobs. */
export function sidekiqJobToMessage(raw: Buffer, queue: string, state: MessageState, score?: number): Message {
  const parsed = parseSidekiqJob(raw)
  const message: Message = {id: '', queue, payload: raw, contentType: 'application/json', headers: {}, attempts: 0, state}
  if ('error' in parsed) {
    message.id = `raw-${raw.subarray(0, 12).toString('hex')}`
    message.undecodable = parsed.error
    message.raw = raw.toString('utf8')
    if (score !== undefined) message.availableAt = Math.round(score * 1000)
    return message
  }
  const job = parsed.job
  message.id = typeof job.jid === 'string' ? job.jid : ''
  // ActiveJob wraps the real class: show that one
  const wrapped = typeof job.wrapped === 'string' ? job.wrapped : undefined
  message.name = wrapped ?? (typeof job.class === 'string' ? job.class : undefined)
  message.body = job
  message.raw = job
  if (typeof job.retry_count === 'number') message.attempts = job.retry_count + 1
  else if (state === 'retry' || state === 'dead') message.attempts = 1
  if (state === 'inflight') message.attempts += 1
  message.enqueuedAt = seconds(job.enqueued_at) ?? seconds(job.created_at)
  if (score !== undefined && (state === 'delayed' || state === 'retry')) message.availableAt = Math.round(score * 1000)
  if (typeof job.error_message === 'string' || typeof job.error_class === 'string') {
    message.lastError = [job.error_class, job.error_message].filter((s) => typeof s === 'string').join(': ')
  }
  if (typeof job.class !== 'string' || !Array.isArray(job.args)) message.undecodable = 'not a runnable Sidekiq job: needs "class" (a string) and "args" (an array)'
  for (const key of ['class', 'jid', 'queue', 'retry', 'wrapped']) {
    if (job[key] !== undefined) message.headers[key] = typeof job[key] === 'string' ? (job[key] as string) : JSON.stringify(job[key])
  }
  // enqueue writes headers as extra string fields of the job: read them back the same way
  for (const [key, value] of Object.entries(job)) if (typeof value === 'string' && !SIDEKIQ_FIELDS.has(key)) message.headers[key] = value
  return message
}

export interface EncodedSidekiqJob {
  jid: string
  json: string
  /** Epoch seconds when it is due, for scheduled jobs. */
  at?: number
}

/**
 * Checks every message first (a class name, JSON array arguments), then builds the jobs as
 * Sidekiq::Client does: scheduled jobs carry no enqueued_at, the score is their time.
 */
export function encodeSidekiqJobs(queue: string, messages: OutgoingMessage[], nowMs = Date.now()): EncodedSidekiqJob[] {
  const checked = messages.map((m, i) => {
    const which = messages.length > 1 ? `message ${i + 1}: ` : ''
    if (!m.name) throw new UsageError(`${which}a Sidekiq job needs its worker class — add --name (e.g. --name HardWorker)`)
    if (m.priority !== undefined) throw new UsageError(`${which}Sidekiq has no message priorities — send without --priority`)
    if (m.dedupId !== undefined) throw new UsageError(`${which}Sidekiq has no deduplication ids — drop --dedup-id`)
    const text = (typeof m.payload === 'string' ? m.payload : m.payload.toString('utf8')).trim()
    let args: unknown = []
    if (text !== '') {
      try {
        args = JSON.parse(text)
      } catch {
        throw new UsageError(`${which}Sidekiq arguments must be JSON — nothing was sent`)
      }
    }
    if (!Array.isArray(args)) throw new UsageError(`${which}Sidekiq arguments must be a JSON array (perform(*args)), e.g. '[1, "two"]' — nothing was sent`)
    return {m, args}
  })
  const now = nowMs / 1000
  return checked.map(({m, args}) => {
    const jid = randomBytes(12).toString('hex')
    const job: Record<string, unknown> = {retry: true, queue, class: m.name, args, jid, created_at: now}
    for (const [k, v] of Object.entries(m.headers ?? {})) if (!(k in job)) job[k] = v
    if (m.delayMs && m.delayMs > 0) return {jid, json: JSON.stringify(job), at: now + m.delayMs / 1000}
    job.enqueued_at = now
    return {jid, json: JSON.stringify(job)}
  })
}

/** What Sidekiq's SortedEntry#retry writes back: the same job, one fewer retry counted, enqueued now. */
export function requeuedJob(raw: string, nowMs = Date.now()): {json: string; queue: string} | undefined {
  const parsed = parseSidekiqJob(raw)
  if ('error' in parsed || typeof parsed.job.queue !== 'string') return undefined
  const job = {...parsed.job}
  if (typeof job.retry_count === 'number') job.retry_count -= 1
  job.enqueued_at = nowMs / 1000
  return {json: JSON.stringify(job), queue: parsed.job.queue}
}
