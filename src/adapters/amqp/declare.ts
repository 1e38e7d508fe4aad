// What `queue create` declares on RabbitMQ: the queue's type, durability and x-arguments from the
// settings the descriptor declares (createOptions), refused where the type cannot hold one.
import type {QueueOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import type {QueueType} from './config.js'

export interface Declaration {
  durable: boolean
  arguments: Record<string, unknown>
  /** A queue the dead letters go to through the default exchange: declared first, durable. */
  deadLetterQueue?: string
}

export function declarationOf(options: QueueOptions, defaultType: QueueType): Declaration {
  const type = (options['type'] as QueueType | undefined) ?? defaultType
  const durable = options['durable'] === undefined ? true : Boolean(options['durable'])
  if (!durable && type !== 'classic') throw new UsageError(`a ${type} queue is always durable — drop --no-durable, or give --type classic`)
  if (options['delivery-limit'] !== undefined && type !== 'quorum') {
    throw new UsageError(`--delivery-limit needs a quorum queue (RabbitMQ counts deliveries only there) — add --type quorum`)
  }
  if (type === 'stream' && (options['dead-letter-queue'] !== undefined || options['dead-letter-exchange'] !== undefined || options['message-ttl'] !== undefined)) {
    throw new UsageError('a stream keeps every message (no dead-lettering, no per-message TTL) — use --type quorum or classic for those')
  }
  const args: Record<string, unknown> = {}
  if (type !== 'classic') args['x-queue-type'] = type
  const dlq = options['dead-letter-queue'] as string | undefined
  const dlx = options['dead-letter-exchange'] as string | undefined
  if (dlx !== undefined || dlq !== undefined) args['x-dead-letter-exchange'] = dlx ?? ''
  if (dlq !== undefined) args['x-dead-letter-routing-key'] = dlq
  if (options['max-length'] !== undefined) args['x-max-length'] = options['max-length']
  if (options['message-ttl'] !== undefined) args['x-message-ttl'] = options['message-ttl']
  if (options['delivery-limit'] !== undefined) args['x-delivery-limit'] = options['delivery-limit']
  return {durable, arguments: args, deadLetterQueue: dlx === undefined ? dlq : undefined}
}
