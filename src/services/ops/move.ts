// `queue move` and the generic half of `queue retry`: copy to the destination, wait for its
// confirmation, then remove from the source (drain.ts). Everything that can be refused is refused
// before the first message is touched: a missing destination, a state the source cannot give.
import type {Broker, MessageState} from '../../broker/contract.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {capabilitiesFor} from '../../broker/capabilities.js'
import {drainQueue, type DrainReport} from './drain.js'
import type {MessageFilter} from './filter.js'
import {toOutgoing} from './message-format.js'

/** The queue holding a queue's dead messages, where the broker keeps them in a queue of their own (AMQP, SQS). */
export async function deadLetterQueueOf(broker: Broker, queue: string, verb: string): Promise<string> {
  const stats = await broker.stats(queue)
  const dlq = stats.details?.deadLetterQueue
  if (typeof dlq === 'string' && dlq !== '') return dlq
  throw new NotSupportedError(
    broker.retry
      ? `${broker.transport} keeps dead messages of "${queue}" inside the queue, not in a queue of their own, so they cannot be ${verb} this way — use \`queue retry ${queue}\``
      : `queue "${queue}" on ${broker.displayUrl} has no dead-letter queue to take dead messages from — declare one (AMQP x-dead-letter-exchange, SQS RedrivePolicy)`,
  )
}

/** Where messages in `state` of `queue` can be consumed from. */
export async function sourceQueue(broker: Broker, queue: string, state: MessageState | undefined): Promise<string> {
  if (state === undefined || state === 'waiting') {
    await broker.stats(queue) // NotFoundError (exit 4) before anything else
    return queue
  }
  if (state === 'dead') return deadLetterQueueOf(broker, queue, 'moved')
  throw new NotSupportedError(`only waiting and dead messages can be moved (consumed and re-sent); "${state}" messages cannot — use \`queue retry\` or \`queue purge\``)
}

/** Refuses a destination that does not exist (exit 4), unless asked to create it. */
export async function checkDestination(broker: Broker, queue: string, create: boolean): Promise<void> {
  if (create) {
    if (!broker.createQueue) throw new NotSupportedError(`${broker.transport} cannot create queues — make "${queue}" first`)
    await broker.createQueue(queue)
  }
  await broker.stats(queue)
}

export interface MoveOptions {
  limit?: number
  filter?: MessageFilter
  batchSize: number
  idleMs: number
  signal?: AbortSignal
  /** Dead → waiting: drop our dead-letter notes. */
  retry?: boolean
  onProgress?: (report: DrainReport) => void
}

export interface MoveReport extends DrainReport {
  from: string
  to: string
}

export async function moveMessages(src: Broker, from: string, dst: Broker, to: string, options: MoveOptions): Promise<MoveReport> {
  if (src === dst && from === to) throw new UsageError(`the source and destination are the same queue "${from}" — name another destination`)
  const caps = await capabilitiesFor(dst, to)
  const keep = {retry: options.retry, priority: Boolean(caps.priority), groups: caps.groups, dedup: caps.groups && caps.dedup}
  const report = await drainQueue(
    src,
    from,
    async (messages) => {
      await dst.enqueue(to, messages.map((m) => toOutgoing(m, keep)), {ids: false})
    },
    {
      limit: options.limit,
      batchSize: options.batchSize,
      idleMs: options.idleMs,
      filter: options.filter,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  )
  return {...report, from, to}
}
