// Bull (v3/v4) jobs ↔ Messages. A Bull job is the hash <prefix>:<queue>:<id> with name, data
// (JSON), opts (JSON), timestamp, delay, priority, attemptsMade, failedReason, stacktrace (JSON
// array), processedOn, finishedOn, returnvalue. The payload becomes `data` (./node-job-data.ts);
// the name defaults to Bull's own `__default__`, so a plain `queue.process(fn)` runs the job.
import type {Message, MessageState, OutgoingMessage} from '../../../broker/contract.js'
import {addJobSchedule, undecodableJobHash} from './job-hash.js'
import {decodeData, encodeData, extraOf} from './node-job-data.js'

/** Bull's name for a job added without one (what `queue.process(handler)` handles). */
export const BULL_DEFAULT_NAME = '__default__'
/** Highest contract priority; Bull's own numbers run the other way (1 is served first). */
import {BULL_PRIORITY_LIMIT} from './detect.js'

export {BULL_PRIORITY_LIMIT}
const toBullPriority = (p: number) => BULL_PRIORITY_LIMIT + 1 - p

/** The parts of bull's Job that the flavor uses (bull's own typings pin another ioredis). */
export interface BullJob {
  id: string | number
  name: string
  data: unknown
  opts: Record<string, unknown> & {priority?: number; lifo?: boolean}
  timestamp: number
  delay: number
  attemptsMade: number
  failedReason?: string
  stacktrace?: string[]
  processedOn?: number
  finishedOn?: number
  toJSON(): unknown
  getState(): Promise<string>
  remove(): Promise<void>
  moveToCompleted(returnValue: unknown, ignoreLock?: boolean, notFetch?: boolean): Promise<unknown>
  moveToFailed(error: {message: string}, ignoreLock?: boolean): Promise<void>
  moveToDelayed(timestamp: number, ignoreLock?: boolean): Promise<void>
  extendLock(ms: number): Promise<unknown>
  discard(): void
  retry(): Promise<void>
  promote(): Promise<void>
}

export function toBullJob(message: OutgoingMessage): {name: string; data: unknown; opts: Record<string, unknown>} {
  const {data, extra} = encodeData(message)
  const opts: Record<string, unknown> = {}
  if (Object.keys(extra).length > 0) opts.queuectl = extra
  if (message.delayMs) opts.delay = message.delayMs
  if (message.priority !== undefined) opts.priority = toBullPriority(message.priority)
  if (message.dedupId) opts.jobId = message.dedupId
  return {name: message.name ?? BULL_DEFAULT_NAME, data, opts}
}

/** `started`: deliveries counted by queuectl consumers (the hash field `attemptsStarted`). */
export function fromBullJob(queue: string, job: BullJob, state: MessageState, started?: number): Message {
  const extra = extraOf(job.opts)
  const made = Number(job.attemptsMade) || 0
  const message: Message = {
    id: String(job.id),
    queue,
    ...decodeData(job.data, extra),
    headers: extra.headers ?? {},
    attempts: Math.max(started ?? 0, made + (state === 'inflight' ? 1 : 0)),
    state,
    enqueuedAt: job.timestamp,
  }
  if (job.name && job.name !== BULL_DEFAULT_NAME) message.name = job.name
  // the native form only when someone reads it (--raw): opts, attemptsMade, stacktrace…
  Object.defineProperty(message, 'raw', {get: () => job.toJSON(), enumerable: true, configurable: true})
  return addJobSchedule(message, job, Number(job.opts.priority), toBullPriority)
}

/** A job hash bull itself cannot read (broken JSON): listed anyway, with the reason. */
export const undecodableBullJob = (queue: string, id: string, state: MessageState, hash: Record<string, string>, reason: string): Message =>
  undecodableJobHash(queue, id, state, hash, reason, hash.attemptsMade)
