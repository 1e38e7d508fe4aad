// What the AMQP adapter can do depends on the queue type and on whether the management API answers.
import type {Capabilities, MessageState} from '../../broker/contract.js'
import type {QueueType} from './config.js'
import type {MgmtQueue} from './mgmt.js'

/** The rabbitmq_delayed_message_exchange plugin holds a message for at most 2^32-1 ms. */
const DELAYED_EXCHANGE_MAX_MS = 2 ** 32 - 1

export interface AmqpFacts {
  queueType: QueueType
  /** The management API answered with these credentials. */
  mgmt: boolean
  /** The x-delayed-message exchange type exists (plugin on; seen through the management API). */
  delayedExchange: boolean
  maxMessageBytes: number
  /** Every enqueue is a Celery task (?flavor=celery). */
  flavor?: 'celery'
}

/** A Celery eta: the worker that takes the task holds it until due (Redis's celery flavor allows as long). */
const CELERY_DELAY = {maxMs: 365 * 24 * 3600 * 1000}

/** What to do instead, for each refusal. */
export const AMQP_ADVICE: NonNullable<Capabilities['advice']> = {
  retry: 'RabbitMQ has no retry of its own: `queue retry` moves dead messages back from the dead-letter queue',
  pause: 'RabbitMQ has no pause: stop its consumers instead',
  extend: 'RabbitMQ keeps a lease until it is settled or the channel closes (consumer_timeout aside): there is nothing to extend',
  delay:
    'RabbitMQ delays only with the rabbitmq_delayed_message_exchange plugin: enable it, or publish to a holding queue declared with x-message-ttl=<delay ms>, x-dead-letter-exchange="" and x-dead-letter-routing-key=<queue> so expired messages move into the queue',
  priority: 'priority needs a classic queue declared with x-max-priority',
  drain:
    'a RabbitMQ stream is a log: consumers read it from an offset and its retention (x-max-age, x-max-length-bytes) removes messages, so `queue work` it without --until-empty (--max-jobs N stops it); nothing can be moved off it',
}

export function amqpCapabilities(f: AmqpFacts): Capabilities {
  const states: MessageState[] = f.mgmt ? ['waiting', 'inflight', 'dead'] : ['waiting']
  return {
    listQueues: f.mgmt,
    peek: f.queueType === 'stream' ? 'none' : 'requeue',
    ...(f.queueType === 'stream' ? {consumeDrains: false as const} : {}),
    delay: f.flavor === 'celery' ? CELERY_DELAY : f.delayedExchange ? {maxMs: DELAYED_EXCHANGE_MAX_MS} : false,
    flavors: {celery: {delay: CELERY_DELAY}},
    // classic queues serve x-max-priority levels strictly (checked per queue through the management
    // API); quorum queues ignore priority before RabbitMQ 4 and only know two levels after
    priority: f.queueType === 'classic' && f.mgmt ? {min: 0, max: 255} : false,
    // our dead-letter keeps the reason, which needs the queue's DLX: only the management API tells it
    deadLetter: f.mgmt ? 'queue' : false,
    // RabbitMQ redelivers only when the channel closes or consumer_timeout (30 min) fires
    leaseExpiry: false,
    rates: f.mgmt,
    states,
    purgeStates: f.mgmt ? ['waiting', 'dead'] : ['waiting'],
    maxPayloadBytes: f.maxMessageBytes,
    dedup: false,
    groups: false,
    // quorum queues and streams write every message to disk whatever its delivery mode
    publish: {persistent: f.queueType === 'classic' ? 'choice' : 'always', confirms: 'choice'},
    inProcess: false,
    // dead messages are retried by moving them back from the dead-letter queue (services/ops/retry)
    retry: false,
    pause: false,
    create: true,
    delete: true,
    // a lease lasts until it is settled or the channel closes: nothing to extend
    extend: false,
    consume: true,
    enqueue: true,
    advice: AMQP_ADVICE,
  }
}

/** One queue's capabilities: its own type, x-max-priority, and whether it dead-letters (into which queue, when one is bound). */
export function queueCapabilities(
  q: MgmtQueue,
  deadLetters: boolean,
  deadLetterQueue: string | undefined,
  f: Pick<AmqpFacts, 'delayedExchange' | 'maxMessageBytes' | 'flavor'>,
): Capabilities {
  const queueType: QueueType = q.type === 'quorum' || q.type === 'stream' ? q.type : 'classic'
  const base = amqpCapabilities({...f, queueType, mgmt: true})
  const maxPriority = Number(q.arguments?.['x-max-priority'])
  return {
    ...base,
    priority: queueType === 'classic' && maxPriority > 0 ? {min: 0, max: maxPriority} : false,
    deadLetter: deadLetters ? 'queue' : false,
    ...(deadLetterQueue ? {deadLetterQueue} : {}),
    states: deadLetterQueue ? base.states : base.states.filter((s) => s !== 'dead'),
    purgeStates: deadLetterQueue ? base.purgeStates : base.purgeStates.filter((s) => s !== 'dead'),
  }
}
