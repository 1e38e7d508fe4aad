// What a Kafka consumer group can do as a queue, kept apart from the SDK so anything may import it.
import type {Capabilities} from '../../broker/contract.js'
import {DRIVEN_QUEUE} from '../../broker/capabilities.js'

/** Kafka's default max.message.bytes (1 MiB + 12); a topic's own comes from its config. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
/** Record batch and record overhead kept free under max.message.bytes. */
export const RECORD_OVERHEAD = 512

export const ADVICE = {
  delay:
    'Kafka has no delayed records: keep the message in a scheduler and produce it when due, or use a delay topic that a consumer holds back (Spring Kafka\'s retry topics with back-off)',
  priority: 'a Kafka partition is served in offset order: produce urgent work to a second topic and run workers on it first',
  pause: 'Kafka cannot pause a consumer group from outside: stop the workers instead (their offsets stay committed)',
  retry: 'dead letters are records of TOPIC-dlt: `queue retry TOPIC` moves them back to TOPIC',
  extend: 'a Kafka consumer group has no per-record lease to extend: a record stays yours until you commit or the group rebalances',
}

/** The consumer-group flavor's capabilities; maxPayloadBytes and deadLetterQueue are refined per queue. */
export const groupCapabilities: Capabilities = {
  ...DRIVEN_QUEUE,
  listQueues: true,
  peek: 'exact',
  delay: false,
  priority: false,
  deadLetter: 'queue',
  leaseExpiry: false,
  // from end and committed offsets sampled over time (rates.ts): from a queue's second stats call on
  rates: true,
  // in flight is unknown on a consumer group: fetched-but-uncommitted records look waiting
  states: ['waiting', 'dead'],
  purgeStates: ['waiting', 'dead'],
  maxPayloadBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES - RECORD_OVERHEAD,
  dedup: false,
  groups: true,
  advice: ADVICE,
  publish: {persistent: 'server', confirms: 'always'},
  retry: false,
  pause: false,
  create: true,
  delete: true,
  extend: false,
}
