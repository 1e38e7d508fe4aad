// `queue wait`: poll a queue's stats until a condition holds or the deadline passes. Transient
// errors (a broker restarting) are retried until the deadline; a missing queue fails at once.
import type {Broker, QueueStats} from '../../broker/contract.js'
import {attachWorkers} from '../workers.js'
import {isUserError} from '../../kernel/errors.js'
import {checkAnswerable, evaluate, type Condition} from './conditions.js'
import {sleep, withTimeout} from './timing.js'

export interface WaitOptions {
  condition: Condition
  deadline: number
  intervalMs: number
  signal?: AbortSignal
  onPoll?: (observed: string, elapsedMs: number) => void
}

export interface WaitResult {
  held: boolean
  /** The last observation ("depth 12 (want <10)"), or the last error. */
  observed: string
  polls: number
  elapsedMs: number
  interrupted?: boolean
}

const NOT_FOUND = 4

/** The queue's stats; with who works on it when the condition counts consumers (the workers service fills what the broker's stats lack). */
async function statsFor(broker: Broker, queue: string, condition: Condition): Promise<QueueStats> {
  const stats = await broker.stats(queue)
  if (condition.all.some((c) => c.metric === 'consumers')) await attachWorkers(broker, [stats])
  return stats
}

export async function waitFor(broker: Broker, queue: string, options: WaitOptions): Promise<WaitResult> {
  const started = Date.now()
  let polls = 0
  let observed = 'no answer from the broker yet'
  let first = true
  for (;;) {
    if (options.signal?.aborted) return {held: false, observed, polls, elapsedMs: Date.now() - started, interrupted: true}
    try {
      const stats = await withTimeout(statsFor(broker, queue, options.condition), Math.max(1000, options.deadline - Date.now()), `stats of "${queue}"`)
      polls++
      if (first) checkAnswerable(options.condition, stats, broker.transport)
      first = false
      const result = evaluate(options.condition, stats)
      observed = result.observed
      options.onPoll?.(observed, Date.now() - started)
      if (result.holds) return {held: true, observed, polls, elapsedMs: Date.now() - started}
    } catch (error) {
      // a queue that does not exist (or a condition the broker cannot answer) will not change by waiting
      if (isUserError(error) && error.exitCode === NOT_FOUND) throw error
      observed = `last poll failed: ${(error as Error).message}`
      options.onPoll?.(observed, Date.now() - started)
    }
    const left = options.deadline - Date.now()
    if (left <= 0) return {held: false, observed, polls, elapsedMs: Date.now() - started}
    await sleep(Math.min(options.intervalMs, left), options.signal)
  }
}
