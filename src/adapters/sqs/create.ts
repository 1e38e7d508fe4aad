// What `queue create` sets on a new SQS queue: FIFO, visibility timeout, retention and a redrive
// policy to a dead-letter queue (made first when missing, FIFO when the queue is), as attributes.
import type {QueueOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'

const MAX_VISIBILITY_S = 12 * 3600
const MIN_RETENTION_S = 60
const MAX_RETENTION_S = 14 * 86_400

function seconds(ms: unknown, flag: string, min: number, max: number): string {
  const s = Number(ms) / 1000
  if (!Number.isInteger(s) || s < min || s > max) throw new UsageError(`${flag} must be whole seconds from ${min}s to ${max}s on SQS — e.g. ${flag} 30s`)
  return String(s)
}

export interface SqsCreation {
  attributes: Record<string, string>
  /** The dead-letter queue's name and the receives before a redrive: its ARN is known once it exists. */
  redrive?: {queue: string; maxReceives: number}
}

export function creationOf(queue: string, options: QueueOptions): SqsCreation {
  const fifo = options['fifo'] === true || queue.endsWith('.fifo')
  if (fifo && !queue.endsWith('.fifo')) throw new UsageError(`a FIFO queue's name must end in .fifo — name it "${queue}.fifo"`)
  if (options['fifo'] === false && queue.endsWith('.fifo')) throw new UsageError(`"${queue}" ends in .fifo, which SQS keeps for FIFO queues — drop --no-fifo or rename it`)
  const attributes: Record<string, string> = {}
  if (fifo) attributes.FifoQueue = 'true'
  if (options['visibility-timeout'] !== undefined) attributes.VisibilityTimeout = seconds(options['visibility-timeout'], '--visibility-timeout', 0, MAX_VISIBILITY_S)
  if (options['retention'] !== undefined) attributes.MessageRetentionPeriod = seconds(options['retention'], '--retention', MIN_RETENTION_S, MAX_RETENTION_S)
  const dlq = options['dead-letter-queue'] as string | undefined
  const maxReceives = options['max-receives'] as number | undefined
  if (maxReceives !== undefined && dlq === undefined) throw new UsageError('--max-receives counts receives before a redrive — give --dead-letter-queue too')
  if (maxReceives !== undefined && (maxReceives < 1 || maxReceives > 1000)) throw new UsageError('--max-receives must be from 1 to 1000 on SQS')
  if (dlq !== undefined && dlq.endsWith('.fifo') !== fifo) throw new UsageError(`a ${fifo ? 'FIFO' : 'standard'} queue needs a ${fifo ? 'FIFO' : 'standard'} dead-letter queue — ${fifo ? 'end its name in .fifo' : 'drop .fifo from its name'}`)
  return {attributes, redrive: dlq === undefined ? undefined : {queue: dlq, maxReceives: maxReceives ?? 5}}
}
