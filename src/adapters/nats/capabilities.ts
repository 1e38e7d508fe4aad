// What NATS JetStream (nats-server 2.9) can do, kept apart from the SDK so anything may import it
// without loading @nats-io/*.
import type {Capabilities, MessageState} from '../../broker/contract.js'

/** nats-server's default max_payload (1 MiB); the server's own value comes with its INFO. */
export const NATS_DEFAULT_MAX_PAYLOAD = 1_048_576

const STATES: readonly MessageState[] = ['waiting', 'inflight', 'dead']

const ADVICE = {
  delay:
    'nats-server 2.9 has no scheduled or delayed messages (message schedules arrive in 2.12): keep the message in a scheduler or a database and publish it when due',
  priority:
    'a JetStream consumer serves its stream in sequence order: publish urgent work to a second stream (or subject with its own consumer) and run workers on it first',
  pause: 'nats-server 2.9 cannot pause a consumer (2.11 adds consumer pause): stop the workers instead',
}

/** The contract's capabilities today; maxPayloadBytes is refined per server by capabilitiesOf. */
export const natsCapabilities: Capabilities = {
  listQueues: true,
  peek: 'exact',
  delay: false,
  priority: false,
  deadLetter: true,
  leaseExpiry: true,
  rates: false,
  states: STATES,
  purgeStates: ['waiting', 'dead'],
  maxPayloadBytes: NATS_DEFAULT_MAX_PAYLOAD,
  dedup: true,
  groups: false,
  advice: {delay: ADVICE.delay, priority: ADVICE.priority},
  // the stream's storage (file or memory) decides persistence; every publish waits for its ack
  publish: {persistent: 'server', confirms: 'always'},
}

/** The name of the dead-letter stream for a stream (created on the first dead letter). */
export const deadLetterStreamOf = (stream: string): string => `${stream}_DLQ`

/**
 * The fields the capability resolver of issue 14 adds; merged into natsCapabilities once the
 * contract has them (`deadLetterQueue` is per queue: see deadLetterStreamOf).
 */
export const natsCapabilityExtras = {
  deadLetter: 'queue' as const,
  inProcess: false,
  retry: {states: ['dead'] as MessageState[]},
  pause: false,
  create: true,
  delete: true,
  extend: true,
  advice: ADVICE,
}

/** The new fields for one queue (its stream): the extras plus the name of its dead-letter stream. */
export const natsQueueExtras = (stream: string) => ({...natsCapabilityExtras, deadLetterQueue: deadLetterStreamOf(stream)})
