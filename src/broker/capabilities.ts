// The one refusal for an operation a queue cannot honour: a NotSupportedError naming where, what
// it cannot do, and the capability's advice (or a default one) on what to do instead.
import {NotFoundError, NotSupportedError} from '../kernel/errors.js'
import type {Capabilities} from './contract.js'

/** The operations a capability can refuse, each with its `advice` entry. */
export type Refusable = keyof NonNullable<Capabilities['advice']>

const CANNOT: Record<Refusable, string> = {
  delay: 'delay messages',
  priority: 'order messages by priority',
  retry: 'retry messages',
  pause: 'be paused or resumed',
  create: 'be created',
  delete: 'be deleted',
  extend: 'extend a lease',
  consume: 'be consumed by queuectl',
  enqueue: 'be enqueued to by queuectl',
  remove: 'delete single jobs by id',
  drain: 'be emptied by consuming: it keeps what is consumed',
}

const INSTEAD: Record<Refusable, string> = {
  delay: 'send without --delay, or schedule the send yourself',
  priority: 'send without --priority',
  retry: 'move the dead messages back instead (`queue move`)',
  pause: 'stop its consumers instead',
  create: 'make the queue with the broker\'s own tools first',
  delete: 'purge it instead (`queue purge`)',
  extend: 'settle the message sooner, or consume with a longer lease',
  consume: 'run the workers that own it',
  enqueue: 'send with the library that owns it',
  remove: 'purge the state, or move the others away with `queue move --where`',
  drain: 'consume it without waiting for it to empty',
}

/** `where` names the queue: `list queue "jobs" on redis://host`, `queue "jobs" on amqp://host`. */
export function refuse(op: Refusable, where: string, caps: Pick<Capabilities, 'advice'>): NotSupportedError {
  return new NotSupportedError(`${where} cannot ${CANNOT[op]} — ${caps.advice?.[op] ?? INSTEAD[op]}`)
}

/** The capabilities an enqueue with `flavor` gets (the queue's own, changed where the flavor declares). */
/** A missing queue the command could make: the error names --create (the command's flag for it). */
export function offerCreate(error: unknown, caps: Pick<Capabilities, 'create'>): unknown {
  if (!(error instanceof NotFoundError) || !caps.create || error.message.includes('--create')) return error
  return new NotFoundError(`${error.message} (or give --create to make it)`, error.suggestions)
}

export function withFlavor(caps: Capabilities, flavor: string | undefined): Capabilities {
  const changes = flavor === undefined ? undefined : caps.flavors?.[flavor]
  return changes ? {...caps, ...changes} : caps
}

/** A queue on a server that queuectl fully drives: made, deleted, consumed with leases it can extend, enqueued to. Adapters spread it and declare the rest. */
export const DRIVEN_QUEUE = {inProcess: false, create: true, delete: true, extend: true, consume: true, enqueue: true} as const
