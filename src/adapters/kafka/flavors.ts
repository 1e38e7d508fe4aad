// The flavor table: one entry per kind of Kafka queue. The first is the default (a bare name).
import {groupFlavor} from './group.js'
import type {KafkaFlavor} from './flavor.js'
import {shareFlavor} from './share-flavor.js'

export const FLAVORS: readonly KafkaFlavor[] = [groupFlavor, shareFlavor]
