// What NATS JetStream (nats-server 2.9) can do, kept apart from the SDK so anything may import it
// without loading @nats-io/*.
import type {Capabilities, MessageState} from '../../broker/contract.js'
import {DRIVEN_QUEUE} from '../../broker/capabilities.js'

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

/** The broker's capabilities; maxPayloadBytes is refined per server, deadLetterQueue per queue, by capabilitiesOf. */
export const natsCapabilities: Capabilities = {
  ...DRIVEN_QUEUE,
  listQueues: true,
  peek: 'exact',
  delay: false,
  priority: false,
  deadLetter: 'queue',
  leaseExpiry: true,
  rates: false,
  states: STATES,
  purgeStates: ['waiting', 'dead'],
  maxPayloadBytes: NATS_DEFAULT_MAX_PAYLOAD,
  dedup: true,
  groups: false,
  advice: ADVICE,
  // the stream's storage (file or memory) decides persistence; every publish waits for its ack
  publish: {persistent: 'server', confirms: 'always'},
  retry: {states: ['dead']},
  pause: false,
}

/** The name of the dead-letter stream for a stream (created on the first dead letter). */
export const deadLetterStreamOf = (stream: string): string => `${stream}_DLQ`
