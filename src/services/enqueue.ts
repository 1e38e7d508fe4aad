// Sending many messages: options checked against what the broker can do before anything is sent,
// then batches one after the other, stopping cleanly between batches when interrupted.
import type {Broker, Capabilities, OutgoingMessage} from '../broker/contract.js'
import {EnqueueError, InterruptedError, NotSupportedError, UsageError, isUserError} from '../kernel/errors.js'
import {formatDuration} from '../kernel/units.js'

export type MessageTemplate = Omit<OutgoingMessage, 'payload'>

/** Refuses options the broker cannot honour, naming the broker and what would work instead. */
export function checkOptions(broker: Broker, caps: Capabilities, template: MessageTemplate): void {
  if (template.delayMs !== undefined && template.delayMs > 0) {
    if (!caps.delay) {
      throw new NotSupportedError(`${broker.displayUrl} cannot delay messages — ${caps.advice?.delay ?? 'send without --delay, or schedule the send yourself'}`)
    }
    if (template.delayMs > caps.delay.maxMs) {
      throw new NotSupportedError(
        `--delay ${formatDuration(template.delayMs)} is over ${broker.transport}'s maximum of ${formatDuration(caps.delay.maxMs)} — ${caps.advice?.delay ?? 'use a shorter delay, or hold the message elsewhere and send it later'}`,
      )
    }
  }
  if (template.priority !== undefined) {
    if (!caps.priority) throw new NotSupportedError(`${broker.displayUrl} has no message priorities here — ${caps.advice?.priority ?? 'send without --priority'}`)
    if (template.priority < caps.priority.min || template.priority > caps.priority.max) {
      throw new UsageError(`--priority ${template.priority} is out of range for ${broker.transport}: ${caps.priority.min}–${caps.priority.max}`)
    }
  }
  if (template.dedupId !== undefined && !caps.dedup) throw new NotSupportedError(`${broker.displayUrl} has no deduplication ids — drop --dedup-id`)
  if (template.groupId !== undefined && !caps.groups) throw new NotSupportedError(`${broker.displayUrl} has no message groups — drop --group-id`)
}

export interface SendReport {
  ids: string[]
  sent: number
}

/**
 * Sends messages in batches of `batchSize`. On interruption stops after the batch in flight and
 * throws InterruptedError saying how many were sent; a broker failure becomes an EnqueueError
 * with the running total, never a claim of success.
 */
export async function sendInBatches(
  broker: Broker,
  queue: string,
  messages: AsyncIterable<OutgoingMessage> | Iterable<OutgoingMessage>,
  options: {batchSize: number; total?: number; flavor?: string; signal?: AbortSignal; onBatch?: (ids: string[], sent: number) => void},
): Promise<SendReport> {
  const ids: string[] = []
  let sent = 0
  let batch: OutgoingMessage[] = []
  const of = options.total === undefined ? '' : ` of ${options.total}`
  const flush = async () => {
    if (batch.length === 0) return
    if (options.signal?.aborted) throw new InterruptedError(`interrupted: ${sent}${of} messages were sent to "${queue}", the rest were not`)
    try {
      const batchIds = await broker.enqueue(queue, batch, options.flavor ? {flavor: options.flavor} : undefined)
      sent += batchIds.length
      ids.push(...batchIds)
      options.onBatch?.(batchIds, sent)
    } catch (error) {
      const inBatch = error instanceof EnqueueError ? error.sent : 0
      const total = sent + inBatch
      const detail = isUserError(error) ? error.message : String((error as Error)?.message ?? error)
      // adapters count within the call; say where that call started in the whole input
      const reason = sent > 0 ? `${detail} (in the batch of messages ${sent + 1}–${sent + batch.length})` : detail
      if (error instanceof EnqueueError || !isUserError(error) || total > 0) {
        throw new EnqueueError(`${total}${of} messages were sent to "${queue}" before it failed: ${reason}`, total, isUserError(error) ? error.exitCode : 3)
      }
      throw error
    }
    batch = []
  }
  // a sync iterable is walked without a promise a message (for await would make one each)
  if (Symbol.iterator in messages) {
    for (const message of messages) {
      batch.push(message)
      if (batch.length >= options.batchSize) await flush()
    }
  } else {
    for await (const message of messages) {
      batch.push(message)
      if (batch.length >= options.batchSize) await flush()
    }
  }
  await flush()
  return {ids, sent}
}
