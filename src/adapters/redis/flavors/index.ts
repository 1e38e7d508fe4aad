// The flavor table. Discovery asks flavors in this order and a key claimed by one is not offered
// to the next, so specific layouts (job libraries) come before the catch-all `list`.
//
// Every command that names a bare queue probes all nine flavors, but uses one: the table holds
// each flavor's detection half (./detect.ts) and imports the rest of a flavor (./<kind>.ts and
// what it pulls in: codecs, scripts, consumers) the first time one of its operations is called.
import type {Capabilities} from '../../../broker/contract.js'
import type {Flavor, FlavorContext} from '../flavor.js'
import {asynqFinder, beeFinder, bullFinder, bullmqFinder, celeryFinder, listFinder, rqFinder, sidekiqFinder, streamFinder, type FlavorFinder} from './detect.js'

/** A flavor's operations past detection; which of the optional ones it has follows from its capabilities. */
const OPERATIONS: readonly {name: keyof Flavor; has: (c: Capabilities) => boolean}[] = [
  {name: 'stats', has: () => true},
  {name: 'peek', has: () => true},
  {name: 'purge', has: () => true},
  {name: 'enqueue', has: (c) => c.enqueue},
  {name: 'consume', has: (c) => c.consume},
  {name: 'create', has: (c) => c.create},
  {name: 'delete', has: (c) => c.delete},
  {name: 'retry', has: (c) => c.retry !== false},
  {name: 'remove', has: (c) => Boolean(c.remove)},
  {name: 'pause', has: (c) => c.pause},
  {name: 'resume', has: (c) => c.pause},
]

/** The finder, with each operation loading the flavor's module on first use and calling it there. */
export function lazyFlavor(finder: FlavorFinder, load: () => Promise<Flavor>): Flavor {
  let loaded: Promise<Flavor> | undefined
  const flavor = () => (loaded ??= load())
  const lazy: Record<string, unknown> = {...finder}
  for (const op of OPERATIONS) {
    if (!op.has(finder.capabilities)) continue
    lazy[op.name] = async (...args: unknown[]) => {
      const real = await flavor()
      return (real[op.name] as (...a: unknown[]) => Promise<unknown>).apply(real, args)
    }
  }
  // nothing to release in a flavor whose module was never loaded
  lazy.close = async (ctx: FlavorContext) => (loaded ? (await loaded).close?.(ctx) : undefined)
  return lazy as unknown as Flavor
}

export const FLAVORS: readonly Flavor[] = [
  lazyFlavor(bullmqFinder, async () => (await import('./bullmq.js')).bullmqFlavor),
  lazyFlavor(beeFinder, async () => (await import('./bee.js')).beeFlavor),
  lazyFlavor(bullFinder, async () => (await import('./bull.js')).bullFlavor),
  lazyFlavor(celeryFinder, async () => (await import('./celery.js')).celeryFlavor),
  lazyFlavor(sidekiqFinder, async () => (await import('./sidekiq.js')).sidekiqFlavor),
  lazyFlavor(rqFinder, async () => (await import('./rq.js')).rqFlavor),
  lazyFlavor(asynqFinder, async () => (await import('./asynq.js')).asynqFlavor),
  lazyFlavor(streamFinder, async () => (await import('./stream.js')).streamFlavor),
  lazyFlavor(listFinder, async () => (await import('./list.js')).listFlavor),
]

export function flavorByKind(kind: string): Flavor | undefined {
  return FLAVORS.find((f) => f.kind === kind)
}
