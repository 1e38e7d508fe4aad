// `queue retry`: dead (or retry-state) messages back to waiting with the library's own mechanism
// where the adapter has one (BullMQ retryJobs, SQS redrive); otherwise by moving them from the
// queue's dead-letter queue back to it (AMQP DLX → source).
import type {Broker, MessageState} from '../../broker/contract.js'
import {refusal} from '../../broker/kit/guard.js'
import {NotSupportedError} from '../../kernel/errors.js'
import {deadLetterQueueOf, moveMessages} from './move.js'

export interface RetryRequest {
  state: MessageState
  ids?: string[]
  limit?: number
  batchSize: number
  idleMs: number
  signal?: AbortSignal
}

export interface RetryReport {
  retried: number
  /** How: "broker" (the library's own retry) or the dead-letter queue it was moved from. */
  via: string
  failed: number
  /** Why a generic retry stopped early; `retried` counts what was done before. */
  error?: Error
}

export async function retryMessages(broker: Broker, queue: string, req: RetryRequest): Promise<RetryReport> {
  const caps = await broker.capabilitiesOf(queue)
  if (caps.retry) {
    const retried = await broker.retry(queue, {state: req.state, ids: req.ids, limit: req.limit})
    return {retried, via: 'broker', failed: 0}
  }
  // no retry of its own and no dead-letter queue to move from
  if (caps.deadLetter !== 'queue') {
    await broker.stats(queue) // NotFoundError (exit 4) before the refusal
    throw refusal('retry', queue, broker, caps)
  }
  if (req.state !== 'dead') throw new NotSupportedError(`${broker.transport} can retry only dead messages (from the dead-letter queue), not "${req.state}"`)
  const dlq = await deadLetterQueueOf(broker, queue, 'retried')
  const ids = req.ids ? new Set(req.ids) : undefined
  const report = await moveMessages(broker, dlq, broker, queue, {
    limit: req.limit ?? ids?.size,
    filter: ids ? (m) => ids.has(m.id) : undefined,
    batchSize: req.batchSize,
    idleMs: req.idleMs,
    signal: req.signal,
    retry: true,
  })
  return {retried: report.done, via: dlq, failed: report.failed, error: report.error}
}
