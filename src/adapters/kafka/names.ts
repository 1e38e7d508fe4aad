// Queue names on kafka://. A queue is KIND:REST where KIND names a flavor (flavors.ts); a bare
// name is the consumer-group flavor: TOPIC, TOPIC/GROUP or TOPIC?group=GROUP (&partition=N for
// enqueue). Dead letters of TOPIC go to TOPIC-dlt (Spring Kafka's and Karafka's convention), read
// through the consumer group DLT_GROUP so that a retried dead letter stops counting.
import {UsageError} from '../../kernel/errors.js'

export const DLT_SUFFIX = '-dlt'
/** The group that reads a dead-letter topic (retry, move): what it committed is no longer dead. */
export const DLT_GROUP = 'queuectl-dlt'
/** The group of a queue that names only its topic (and no ?group= on the URL): TOPIC is TOPIC/queuectl. */
export const DEFAULT_GROUP = 'queuectl'

/** Headers queuectl writes on a record it re-publishes. */
export const HEADER = {
  attempts: 'queuectl-attempts',
  reason: 'queuectl-dead-reason',
  topic: 'queuectl-original-topic',
  partition: 'queuectl-original-partition',
  offset: 'queuectl-original-offset',
  deadAt: 'queuectl-dead-at',
} as const

export interface QueueName {
  /** The flavor's kind: 'group' for a bare name; the text before the first ':' otherwise. */
  kind: string
  topic: string
  group?: string
  partition?: number
  /** The name as given. */
  text: string
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

/** Splits a queue name; `kinds` are the flavors' prefixes other than the default. */
export function parseQueue(text: string, kinds: readonly string[]): QueueName {
  const colon = text.indexOf(':')
  const kind = colon > 0 && kinds.includes(text.slice(0, colon)) ? text.slice(0, colon) : 'group'
  const rest = kind === 'group' ? text : text.slice(colon + 1)
  const [path, query = ''] = rest.split('?', 2) as [string, string?]
  const params = new URLSearchParams(query)
  for (const key of params.keys()) {
    if (key !== 'group' && key !== 'partition') throw new UsageError(`unknown option "${key}" in queue "${text}" — a Kafka queue takes ?group= and ?partition=`)
  }
  const slash = path.indexOf('/')
  const topic = slash >= 0 ? path.slice(0, slash) : path
  const group = (slash >= 0 ? path.slice(slash + 1) : params.get('group')) || undefined
  if (!LEGAL_TOPIC.test(topic)) {
    throw new UsageError(`"${topic}" is not a Kafka topic name (letters, digits, '.', '_' and '-', at most 249) — write the queue as TOPIC or TOPIC/GROUP`)
  }
  const partition = params.has('partition') ? Number(params.get('partition')) : undefined
  if (partition !== undefined && !(Number.isInteger(partition) && partition >= 0)) throw new UsageError(`partition "${params.get('partition')}" in queue "${text}" is not a partition number (0, 1, …)`)
  return {kind, topic, group, partition, text}
}

export const deadLetterTopicOf = (topic: string): string => `${topic}${DLT_SUFFIX}`
