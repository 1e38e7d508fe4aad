// The check every writing command makes of its destination before reading or moving anything:
// `queue enqueue`, `queue import` and `queue move` (and the TUI's move). On its own so that enqueue
// and import load neither the drain nor the message formats of move.
import type {Broker} from '../../broker/contract.js'
import {offerCreate} from '../../broker/capabilities.js'
import {capabilitiesFor, requireCapability} from '../../broker/kit/guard.js'
import {makeQueue} from './lifecycle.js'

/** Refuses a destination that does not exist (exit 4), unless asked to create it, or that queuectl cannot enqueue to. */
export async function checkDestination(broker: Broker, queue: string, create: boolean): Promise<void> {
  // a queue not made yet gets what a new queue gets
  const caps = await capabilitiesFor(broker, queue)
  requireCapability(caps, 'enqueue', queue, broker)
  if (create) await makeQueue(broker, queue)
  await broker.stats(queue).catch((error: unknown) => {
    throw offerCreate(error, caps)
  })
}
