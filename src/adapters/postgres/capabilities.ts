// What each library's tables can do. Written with the fields the contract gains in the capabilities
// rework (deadLetter mode, inProcess, retry, pause, create, delete, extend); `current()` folds them
// into today's Capabilities until that lands — then it goes and these are the declarations.
import type {Capabilities, MessageState} from '../../broker/contract.js'

interface NextCapabilities extends Omit<Capabilities, 'deadLetter'> {
  deadLetter: false | 'state' | 'queue'
  deadLetterQueue?: string
  inProcess: boolean
  retry: false | {states: readonly MessageState[]}
  pause: boolean
  create: boolean
  delete: boolean
  extend: boolean
}

const YEAR_MS = 365 * 24 * 3600 * 1000
// a committed INSERT is on disk (the server's fsync/synchronous_commit decide how surely)
const PUBLISH = {persistent: 'server', confirms: 'always'} as const

export const PGBOSS_NEXT: NextCapabilities = {
  listQueues: true,
  peek: 'exact',
  delay: {maxMs: YEAR_MS},
  priority: {min: 0, max: 2 ** 31 - 1},
  deadLetter: 'state',
  leaseExpiry: true,
  rates: false,
  states: ['waiting', 'inflight', 'delayed', 'retry', 'dead', 'completed'],
  purgeStates: ['waiting', 'delayed', 'retry', 'dead', 'completed'],
  dedup: true,
  groups: false,
  publish: PUBLISH,
  inProcess: false,
  retry: {states: ['dead']},
  pause: false,
  create: true,
  delete: true,
  extend: true,
  advice: {priority: 'pg-boss serves higher priority numbers first (0 is the default)'},
}

export const GRAPHILE_NEXT: NextCapabilities = {
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
  inProcess: false,
  retry: {states: ['dead', 'retry']},
  pause: false,
  create: true,
  delete: true,
  extend: true,
}

/** Today's Capabilities from the upcoming shape. */
export function current(next: NextCapabilities): Capabilities {
  const {inProcess: _i, retry: _r, pause: _p, create: _c, delete: _d, extend: _e, deadLetterQueue: _q, ...rest} = next
  return {...rest, deadLetter: next.deadLetter !== false}
}

export const pgbossCapabilities = current(PGBOSS_NEXT)
export const graphileCapabilities = current(GRAPHILE_NEXT)

/** A pg-boss queue that names a dead-letter queue: failed jobs are also copied there. */
export function pgbossWithDeadLetterQueue(queue: string): Capabilities {
  return current({...PGBOSS_NEXT, deadLetter: 'queue', deadLetterQueue: queue})
}
