// Sidekiq's job JSON (checked against Sidekiq 6.4; 7.x and 8.x from their source), both ways. A job
// is one JSON object: class, args, jid (12 random bytes, hex), queue, retry, created_at,
// enqueued_at and after a failure error_message, error_class, failed_at, retry_count, retried_at.
// Times: float epoch seconds up to Sidekiq 7; integer epoch milliseconds from Sidekiq 8 (job_util.rb
// now_in_millis, client.rb atomic_push), which reads both by the JSON type (api.rb
// time_from_timestamp). Sorted-set scores stay float seconds in every version.
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
const SIDEKIQ_FIELDS = new Set(['class', 'args', 'jid', 'queue', 'retry', 'wrapped', 'display_class', 'retry_for', 'created_at', 'enqueued_at', 'at', 'error_message', 'error_class', 'failed_at', 'retried_at', 'retry_count', 'backtrace', 'dead'])

/** How a job stores its times: `seconds` (float, Sidekiq ≤ 7) or `ms` (integer, Sidekiq 8). */
export type TimeFormat = 'seconds' | 'ms'

/** The job time fields Sidekiq writes, in the format of the version that wrote them. */
const TIME_FIELDS = ['created_at', 'enqueued_at', 'failed_at', 'retried_at'] as const

// 1e11 ms is 1973 and 1e11 s the year 5138: the magnitude tells the two formats apart
const MS_THRESHOLD = 1e11

/** A job time field as epoch ms, whichever version wrote it. */
export function sidekiqTime(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined
  return v >= MS_THRESHOLD ? Math.round(v) : Math.round(v * 1000)
}

/** The format of a job's own times, when it has any. */
export function timeFormatOf(job: SidekiqJob): TimeFormat | undefined {
  for (const field of TIME_FIELDS) {
    const v = job[field]
    if (typeof v === 'number' && Number.isFinite(v)) return v >= MS_THRESHOLD ? 'ms' : 'seconds'
  }
  return undefined
}

/**
 * Epoch ms as the given format writes it. Seconds always carry a fraction: Sidekiq 8 takes a JSON
 * integer for milliseconds, so a whole second written as `1796604693` would read as 1970.
 */
export function sidekiqStamp(ms: number, format: TimeFormat): number {
  if (format === 'ms') return Math.round(ms)
  const s = ms / 1000
  return Number.isInteger(s) ? s + 0.000001 : s
}

/** A job's time fields rewritten in `format` (a job moving from a Sidekiq 8 to a Sidekiq 7, or back). */
function convertTimes(job: SidekiqJob, format: TimeFormat): void {
  for (const field of TIME_FIELDS) {
    const v = job[field]
    if (typeof v !== 'number' || !Number.isFinite(v) || (v >= MS_THRESHOLD) === (format === 'ms')) continue
    job[field] = sidekiqStamp(sidekiqTime(v)!, format)
  }
}

/** ActiveJob's wrapper class: `ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper` up to Sidekiq 7, `Sidekiq::ActiveJob::Wrapper` from 8. */
const WRAPPERS = new Set(['ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper', 'Sidekiq::ActiveJob::Wrapper'])

/** The class to show, as Sidekiq's JobRecord#display_class picks it (display_class, else the wrapped ActiveJob class). */
function displayClass(job: SidekiqJob): string | undefined {
  if (typeof job.display_class === 'string') return job.display_class
  if (typeof job.wrapped === 'string') return job.wrapped
  const first = Array.isArray(job.args) ? (job.args[0] as {job_class?: unknown} | undefined) : undefined
  if (typeof job.class === 'string' && WRAPPERS.has(job.class) && typeof first?.job_class === 'string') return first.job_class
  return typeof job.class === 'string' ? job.class : undefined
}

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
  message.name = displayClass(job)
  message.body = job
  message.raw = job
  if (typeof job.retry_count === 'number') message.attempts = job.retry_count + 1
  else if (state === 'retry' || state === 'dead') message.attempts = 1
  if (state === 'inflight') message.attempts += 1
  message.enqueuedAt = sidekiqTime(job.enqueued_at) ?? sidekiqTime(job.created_at)
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

/** Headers sidekiqJobToMessage derives from the job's own fields: not written back as extra fields. */
const DERIVED_HEADERS = new Set(['class', 'jid', 'queue', 'retry', 'wrapped'])

/** A whole Sidekiq job (an exported or moved one): class and args, as Sidekiq::Client.push takes it. */
function wholeJob(value: unknown): SidekiqJob | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const job = value as SidekiqJob
  return typeof job.class === 'string' && Array.isArray(job.args) ? job : undefined
}

/**
 * Checks every message first (a class name, JSON array arguments), then builds the jobs as
 * Sidekiq::Client does: scheduled jobs carry no enqueued_at, the score is their time. A payload
 * that is a whole Sidekiq job (export, move) is pushed as Client.push(job) would: its fields kept,
 * its jid too (`item["jid"] ||=`), its queue the target's, its times in `format`.
 */
export function encodeSidekiqJobs(queue: string, messages: OutgoingMessage[], format: TimeFormat = 'seconds', nowMs = Date.now()): EncodedSidekiqJob[] {
  const checked = messages.map((m, i) => {
    const which = messages.length > 1 ? `message ${i + 1}: ` : ''
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
    const whole = wholeJob(args)
    if (whole) return {m, job: {...whole}}
    if (!m.name) throw new UsageError(`${which}a Sidekiq job needs its worker class — add --name (e.g. --name HardWorker)`)
    if (!Array.isArray(args)) throw new UsageError(`${which}Sidekiq arguments must be a JSON array (perform(*args)), e.g. '[1, "two"]', or a whole Sidekiq job ({"class": …, "args": […]}) — nothing was sent`)
    return {m, job: {retry: true, queue, class: m.name, args} as SidekiqJob}
  })
  return checked.map(({m, job}) => {
    const jid = typeof job.jid === 'string' && job.jid !== '' ? job.jid : randomBytes(12).toString('hex')
    delete job.at
    delete job.enqueued_at
    convertTimes(job, format)
    Object.assign(job, {queue, jid, created_at: job.created_at ?? sidekiqStamp(nowMs, format)})
    for (const [k, v] of Object.entries(m.headers ?? {})) if (!(k in job) && !DERIVED_HEADERS.has(k)) job[k] = v
    if (m.delayMs && m.delayMs > 0) return {jid, json: JSON.stringify(job), at: sidekiqStamp(nowMs + m.delayMs, 'seconds')}
    job.enqueued_at = sidekiqStamp(nowMs, format)
    return {jid, json: JSON.stringify(job)}
  })
}

/**
 * What Sidekiq's SortedEntry#retry writes back: the same job, one fewer retry counted, enqueued now
 * (in `format`); with `countDown` false, what SortedEntry#add_to_queue writes (a scheduled job run now).
 */
export function requeuedJob(raw: string, format: TimeFormat, nowMs = Date.now(), countDown = true): {json: string; queue: string} | undefined {
  const parsed = parseSidekiqJob(raw)
  if ('error' in parsed || typeof parsed.job.queue !== 'string') return undefined
  const job = {...parsed.job}
  if (countDown && typeof job.retry_count === 'number') job.retry_count -= 1
  job.enqueued_at = sidekiqStamp(nowMs, format)
  return {json: JSON.stringify(job), queue: parsed.job.queue}
}
