// What each library's tables can do.
import {DRIVEN_QUEUE} from '../../broker/capabilities.js'
import type {Capabilities} from '../../broker/contract.js'

const YEAR_MS = 365 * 24 * 3600 * 1000
// a committed INSERT is on disk (the server's fsync/synchronous_commit decide how surely)
const PUBLISH = {persistent: 'server', confirms: 'always'} as const

/** Neither library can hold back a queue's jobs. */
const PAUSE_ADVICE = 'stop its workers instead (neither pg-boss nor graphile-worker pauses a queue)'

export const pgbossCapabilities: Capabilities = {
  ...DRIVEN_QUEUE,
  // data is jsonb, and its workers get exactly it: no place for headers or other bytes
  payload: 'json',
  listQueues: true,
  peek: 'exact',
  delay: {maxMs: YEAR_MS},
  priority: {min: 0, max: 2 ** 31 - 1},
  deadLetter: 'state',
  leaseExpiry: true,
  rates: false,
  // pg-boss's own `retry` state is fetched by its workers like `created`: waiting or delayed
  states: ['waiting', 'inflight', 'delayed', 'dead', 'completed'],
  purgeStates: ['waiting', 'delayed', 'dead', 'completed'],
  dedup: true,
  groups: false,
  publish: PUBLISH,
  retry: {states: ['dead', 'delayed']},
  remove: {states: ['waiting', 'delayed', 'dead', 'completed']},
  pause: false,
  advice: {priority: 'pg-boss serves higher priority numbers first (0 is the default)', pause: PAUSE_ADVICE},
}

export const graphileCapabilities: Capabilities = {
  ...DRIVEN_QUEUE,
  // payload is json, and its tasks get exactly it: no place for headers or other bytes
  payload: 'json',
  listQueues: true,
  peek: 'exact',
  delay: {maxMs: YEAR_MS},
  // graphile-worker runs lower numbers first (smallint); ours run higher first: we negate
  priority: {min: -32767, max: 32767},
  deadLetter: 'state',
  leaseExpiry: true,
  rates: false,
  states: ['waiting', 'inflight', 'delayed', 'retry', 'dead'],
  purgeStates: ['waiting', 'delayed', 'retry', 'dead'],
  dedup: true,
  groups: true,
  publish: PUBLISH,
  retry: {states: ['dead', 'retry']},
  remove: {states: ['waiting', 'delayed', 'retry', 'dead']},
  pause: false,
  advice: {pause: PAUSE_ADVICE},
}


/** A pg-boss queue that names a dead-letter queue: failed jobs are also copied there. */
export function pgbossWithDeadLetterQueue(queue: string): Capabilities {
  return {...pgbossCapabilities, deadLetter: 'queue', deadLetterQueue: queue}
}
