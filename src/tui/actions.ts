// The queue actions of the detail view, carried out on the broker once the user confirmed them.
// Each resolves with one status line for the footer.
import type {Broker, Lease} from '../adapters/contract.js'
import {NotSupportedError} from '../core/errors.js'
import type {PendingAction} from './keys.js'

export async function runAction(broker: Broker, action: PendingAction): Promise<string> {
  const {queue} = action
  switch (action.kind) {
    case 'purge': {
      const n = await broker.purge(queue, action.state)
      return `purged ${n} ${action.state ?? 'waiting'} message${n === 1 ? '' : 's'} of "${queue}"`
    }
    case 'retry': {
      if (!broker.retry) throw new NotSupportedError(`${broker.displayUrl} cannot retry messages`)
      const n = await broker.retry(queue, {state: action.state})
      return `retried ${n} message${n === 1 ? '' : 's'} of "${queue}"`
    }
    case 'pause':
    case 'resume': {
      const fn = action.kind === 'pause' ? broker.pause : broker.resume
      if (!fn) throw new NotSupportedError(`${broker.displayUrl} cannot ${action.kind} queues`)
      await fn.call(broker, queue)
      return `${action.kind === 'pause' ? 'paused' : 'resumed'} "${queue}"`
    }
    case 'move': {
      const n = await moveWaiting(broker, queue, action.to!)
      return `moved ${n} message${n === 1 ? '' : 's'} from "${queue}" to "${action.to}"`
    }
  }
}

/**
 * Moves the messages waiting now from one queue to another on the same broker: each is leased,
 * copied, and only then acked, so a crash leaves a duplicate rather than a loss. Stops after the
 * count seen at the start (new arrivals stay) or when nothing arrives for `idleMs`.
 */
export async function moveWaiting(broker: Broker, from: string, to: string, options: {idleMs?: number; timeoutMs?: number} = {}): Promise<number> {
  const limit = (await broker.stats(from)).counts.waiting ?? Number.POSITIVE_INFINITY
  if (limit === 0) return 0
  let taken = 0
  let moved = 0
  let failure: unknown
  let lastActivity = Date.now()
  const copy = async (lease: Lease): Promise<void> => {
    const m = lease.message
    try {
      await broker.enqueue(to, [{payload: m.payload, contentType: m.contentType, name: m.name, headers: m.headers, priority: m.priority}])
      await lease.ack()
      moved++
    } catch (error) {
      failure ??= error
      await lease.nack().catch(() => {})
    }
    lastActivity = Date.now()
  }
  const pending = new Set<Promise<void>>()
  const subscription = await broker.consume(
    from,
    (lease) => {
      lastActivity = Date.now()
      if (taken >= limit || failure) {
        void lease.nack().catch(() => {})
        return
      }
      taken++
      const p = copy(lease)
      pending.add(p)
      void p.finally(() => pending.delete(p))
    },
    {prefetch: 16},
  )
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  const idleMs = options.idleMs ?? 1000
  try {
    while (moved < limit && !failure && Date.now() < deadline && Date.now() - lastActivity < idleMs) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  } finally {
    await subscription.close()
    await Promise.allSettled([...pending])
  }
  if (failure) throw failure
  return moved
}
