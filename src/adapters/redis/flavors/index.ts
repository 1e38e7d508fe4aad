// The flavor table. Discovery asks flavors in this order and a key claimed by one is not offered
// to the next, so specific layouts (job libraries) come before the catch-all `list`.
import type {Flavor} from '../flavor.js'
import {bullmqFlavor} from './bullmq.js'
import {bullFlavor} from './bull.js'
import {beeFlavor} from './bee.js'
import {asynqFlavor} from './asynq.js'
import {celeryFlavor} from './celery.js'
import {listFlavor} from './list.js'
import {rqFlavor} from './rq.js'
import {sidekiqFlavor} from './sidekiq.js'
import {streamFlavor} from './stream.js'

export const FLAVORS: readonly Flavor[] = [bullmqFlavor, beeFlavor, bullFlavor, celeryFlavor, sidekiqFlavor, rqFlavor, asynqFlavor, streamFlavor, listFlavor]

export function flavorByKind(kind: string): Flavor | undefined {
  return FLAVORS.find((f) => f.kind === kind)
}
