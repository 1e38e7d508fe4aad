// What SQS can do, kept apart from the SDK so anything may import it without loading @aws-sdk.
import type {Capabilities, MessageState} from '../../broker/contract.js'
import {DRIVEN_QUEUE} from '../../broker/capabilities.js'

/** SQS's own per-message delay limit: 15 minutes. */
export const SQS_MAX_DELAY_MS = 900_000
/** Largest message (body + attributes) AWS accepts since August 2025, and what fauxqs enforces. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576
/** SQS rejects messages carrying more than this many message attributes. */
export const SQS_MAX_ATTRIBUTES = 10

const STATES: readonly MessageState[] = ['waiting', 'inflight', 'delayed', 'dead']

/** Standard queues: per-message delay up to 15 min, no ordering promise. */
export const sqsCapabilities: Capabilities = {
  ...DRIVEN_QUEUE,
  listQueues: true,
  peek: 'visibility',
  delay: {maxMs: SQS_MAX_DELAY_MS},
  priority: false,
  // to the queue named by its RedrivePolicy; per queue, capabilitiesOf says whether it has one
  deadLetter: 'queue',
  leaseExpiry: true,
  rates: false,
  states: STATES,
  purgeStates: ['waiting', 'dead'],
  maxPayloadBytes: SQS_MAX_MESSAGE_BYTES,
  dedup: true,
  groups: true,
  // SQS stores every message redundantly and answers each send: neither is a choice
  publish: {persistent: 'always', confirms: 'always'},
  // the redrive: DLQ → source
  retry: {states: ['dead']},
  pause: false,
  advice: {
    delay: 'SQS holds a message back at most 15 minutes (FIFO queues only per queue, with DelaySeconds): for longer, keep it in a scheduler or a database and send it when due',
    pause: 'SQS has no pause: stop its consumers instead',
  },
}

/** Without a RedrivePolicy a queue can neither dead-letter nor redrive. */
export const NO_DLQ_ADVICE = 'give the queue a dead-letter queue first: a RedrivePolicy (aws sqs set-queue-attributes --attributes RedrivePolicy=…)'

/** A connection declared FIFO (`sqs://?fifo=true`): FIFO queues take no per-message delay. */
export const sqsFifoCapabilities: Capabilities = {...sqsCapabilities, delay: false}
