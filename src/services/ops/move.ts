// `queue move` and the generic half of `queue retry`: copy to the destination, wait for its
// confirmation, then remove from the source (drain.ts). Everything that can be refused is refused
// before the first message is touched: a missing destination, a state the source cannot give.
import type {Broker, Message, MessageState} from '../../broker/contract.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {drainQueue, type DrainReport} from './drain.js'
import {toOutgoing} from './message-format.js'
import {requireCapability, requireDraining} from '../../broker/kit/guard.js'

// the destination check lives on its own: `queue enqueue` and `queue import` need it without the drain
export {checkDestination} from './destination.js'

/** The queue holding a queue's dead messages, where the broker keeps them in a queue of their own (AMQP, SQS). */
export async function deadLetterQueueOf(broker: Broker, queue: string, verb: string): Promise<string> {
  await broker.stats(queue) // NotFoundError (exit 4) before anything else
  const caps = await broker.capabilitiesOf(queue)
  if (caps.deadLetter === 'queue' && caps.deadLetterQueue) return caps.deadLetterQueue
  if (caps.deadLetter === 'state') {
    const instead = caps.retry ? `use \`queue retry ${queue}\`` : (caps.advice?.retry ?? 'peek them with --state dead')
    throw new NotSupportedError(`${broker.transport} keeps dead messages of "${queue}" inside the queue, not in a queue of their own, so they cannot be ${verb} this way — ${instead}`)
  }
  throw new NotSupportedError(
    `queue "${queue}" on ${broker.displayUrl} has no dead-letter queue to take dead messages from — declare one (AMQP x-dead-letter-exchange, SQS RedrivePolicy)`,
  )
}

/** Where messages in `state` of `queue` can be consumed from. */
export async function sourceQueue(broker: Broker, queue: string, state: MessageState | undefined): Promise<string> {
  if (state === undefined || state === 'waiting') {
    await broker.stats(queue) // NotFoundError (exit 4) before anything else
    await checkConsumable(broker, queue)
    return queue
  }
  if (state === 'dead') {
    const dlq = await deadLetterQueueOf(broker, queue, 'moved')
    await checkConsumable(broker, dlq)
    return dlq
  }
  throw new NotSupportedError(`only waiting and dead messages can be moved (consumed and re-sent); "${state}" messages cannot — use \`queue retry\` or \`queue purge\``)
}

/** Moving and consuming exports take messages by consuming them: refused before any is touched. */
async function checkConsumable(broker: Broker, queue: string): Promise<void> {
  const caps = await broker.capabilitiesOf(queue)
  requireCapability(caps, 'consume', queue, broker)
  requireDraining(caps, queue, broker)
}

export interface MoveOptions {
  limit?: number
  /** Only messages matching (a compiled --where): the others are handed back untouched. */
  filter?: (message: Message) => boolean
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

/** Only RabbitMQ to RabbitMQ keeps message ids (the message-id property); every other broker assigns its own. */
export function keepsIds(src: Broker, dst: Broker): boolean {
  return src.transport === 'amqp' && dst.transport === 'amqp'
}

/**
 * Brokers whose own retry publishes a dead message again (a new NATS sequence, SQS message id,
 * Kafka offset); the Redis libraries, pg-boss/graphile and memory retry the same job, id and all.
 */
const RETRY_REPUBLISHES = new Set(['nats', 'sqs', 'kafka'])

/** The note for `retry`: by the broker's own retry, or by a move back from the dead-letter queue. */
export function retryIdsNote(broker: Broker, via: string, count: number): string | undefined {
  if (via === 'broker' && !RETRY_REPUBLISHES.has(broker.transport)) return undefined
  return newIdsNote(broker, broker, count, 'retried')
}

/** The one line that says the moved messages have new ids, where the brokers cannot keep them. */
export function newIdsNote(src: Broker, dst: Broker, count: number, verb: 'moved' | 'retried'): string | undefined {
  if (count === 0 || keepsIds(src, dst)) return undefined
  const on = src.transport === dst.transport ? dst.transport : `${src.transport} to ${dst.transport}`
  return `the ${count} ${verb} message${count === 1 ? '' : 's'} got new ids (${on} cannot keep message ids; only RabbitMQ to RabbitMQ does)`
}

export async function moveMessages(src: Broker, from: string, dst: Broker, to: string, options: MoveOptions): Promise<MoveReport> {
  if (src === dst && from === to) throw new UsageError(`the source and destination are the same queue "${from}" — name another destination`)
  const caps = await dst.capabilitiesOf(to)
  // ids of one broker kind mean the same on another of that kind (RabbitMQ message-id): kept there
  const keepId = src.transport === dst.transport
  const keep = {retry: options.retry, priority: Boolean(caps.priority), groups: caps.groups, dedup: caps.groups && caps.dedup, keepId}
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
