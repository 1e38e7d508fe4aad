// Queue names on nats://: STREAM (its one durable pull consumer, or ?consumer=) or STREAM/CONSUMER.
// Dead letters of STREAM's consumer C go to the stream STREAM_DLQ, subject queuectl.dlq.STREAM.C.
import {UsageError} from '../../kernel/errors.js'
import {deadLetterStreamOf} from './capabilities.js'

export interface QueueName {
  stream: string
  /** Named in the queue or the URL; else resolved from the stream's consumers. */
  consumer?: string
}

// JetStream names: no whitespace, dots, wildcards or path separators
const NAME = /^[^\s.*>/\\]+$/

export function parseQueue(queue: string, defaultConsumer?: string): QueueName {
  const [stream, consumer, ...rest] = queue.split('/')
  if (!stream || rest.length > 0 || consumer === '' || !NAME.test(stream) || (consumer !== undefined && !NAME.test(consumer))) {
    throw new UsageError(`"${queue}" is not a nats:// queue — write STREAM or STREAM/CONSUMER (names without spaces, dots, * or >)`)
  }
  return {stream, consumer: consumer ?? defaultConsumer}
}

export const queueLabel = (stream: string, consumer?: string): string => (consumer ? `${stream}/${consumer}` : stream)

/** The consumer a queue without one gets when it is made or first consumed. */
export const DEFAULT_CONSUMER = 'queuectl'

const DLQ_PREFIX = 'queuectl.dlq'

export function deadLetterRoute(stream: string, consumer: string): {stream: string; subject: string; subjects: string} {
  return {stream: deadLetterStreamOf(stream), subject: `${DLQ_PREFIX}.${stream}.${consumer}`, subjects: `${DLQ_PREFIX}.${stream}.>`}
}

/** True for the dead-letter streams this tool makes (listQueues shows them with their source only). */
export const isDeadLetterStream = (subjects: readonly string[] | undefined): boolean =>
  !!subjects && subjects.length === 1 && subjects[0]!.startsWith(`${DLQ_PREFIX}.`)

/** NATS subject matching: `*` one token, `>` the rest. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.')
  const s = subject.split('.')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false
  }
  return f.length === s.length
}

/** Headers queuectl keeps its own facts in (the message name, dead-letter reason…). */
export const HEADER = {
  name: 'Queuectl-Name',
  contentType: 'Content-Type',
  reason: 'Queuectl-Dead-Reason',
  subject: 'Queuectl-Original-Subject',
  seq: 'Queuectl-Original-Seq',
  deliveries: 'Queuectl-Deliveries',
  deadAt: 'Queuectl-Dead-At',
} as const

export const META_HEADERS: ReadonlySet<string> = new Set([HEADER.name, HEADER.reason, HEADER.subject, HEADER.seq, HEADER.deliveries, HEADER.deadAt])
