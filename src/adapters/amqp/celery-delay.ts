// Celery 5.5's native delayed delivery on RabbitMQ (kombu 5.5 kombu/transport/native_delayed_delivery.py,
// celery 5.5 celery/app/base.py send_task and celery/worker/consumer/delayed_delivery.py). The worker
// declares 28 topic exchanges and queues celery_delayed_27…0: queue N holds messages 2^N s (x-message-ttl)
// and dead-letters into exchange N-1, the last into the topic exchange celery_delayed_delivery. A task
// due in `countdown` s is published to celery_delayed_27 with the routing key of countdown's 28 bits,
// highest first, then the queue's routing key ("0.….1.0.emails"): each level routes a 1 bit into its
// queue and a 0 bit on to the next exchange. celery_delayed_delivery is bound to the queue's own
// (topic) exchange for "#.<routing key>", which routes to the queue for the same key. Until due, such
// a task sits in a celery_delayed_* queue, not in its target queue. We use it only where the data
// says the worker set it up: the exchange exists and the target queue is bound for it.
import type {MgmtBinding, MgmtClient, MgmtQueue} from './mgmt.js'

export const NATIVE_DELAY_EXCHANGE = 'celery_delayed_27'
export const NATIVE_DELIVERY_EXCHANGE = 'celery_delayed_delivery'
/** kombu's MAX_NUMBER_OF_BITS_TO_USE: the longest countdown is 2^28 - 1 s (8.5 years; --delay stops at 365 days). */
const BITS = 28
const DELAY_QUEUE = /^celery_delayed_(\d+)$/

/** Where Celery 5.5 publishes a task due in `countdown` whole seconds (≥ 1) for `routingKey`. */
export function nativeDelayRoutingKey(countdown: number, routingKey: string): string {
  return `${[...countdown.toString(2).padStart(BITS, '0')].join('.')}.${routingKey}`
}

export interface NativeDelayTarget {
  queue: string
  /** The binding key of the queue's exchange on celery_delayed_delivery ("#.<routing key>"). */
  bindingKey: string
  /** The routing key Celery publishes the queue's tasks with. */
  routingKey: string
}

/** Queues reachable from celery_delayed_delivery, or undefined when the vhost has no native delayed delivery. */
export async function nativeDelayTargets(mgmt: MgmtClient): Promise<NativeDelayTarget[] | undefined> {
  const exists = await mgmt.exchangeType(NATIVE_DELAY_EXCHANGE).then(() => true, () => false)
  if (!exists) return undefined
  const fromDelivery = await mgmt.bindingsFrom(NATIVE_DELIVERY_EXCHANGE).catch((): MgmtBinding[] => [])
  const targets: NativeDelayTarget[] = []
  for (const b of fromDelivery.filter((x) => x.destination_type === 'exchange')) {
    // kombu binds the queue to its exchange with the same key it binds the exchange with
    const toQueues = await mgmt.bindingsFrom(b.destination).catch((): MgmtBinding[] => [])
    for (const q of toQueues) {
      if (q.destination_type !== 'queue' || q.routing_key !== b.routing_key) continue
      targets.push({queue: q.destination, bindingKey: b.routing_key, routingKey: b.routing_key.startsWith('#.') ? b.routing_key.slice(2) : q.destination})
    }
  }
  return targets
}

/** Does a topic binding key match a routing key (`*` one word, `#` zero or more)? */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  const pattern = bindingKey.split('.')
  const words = routingKey === '' ? [] : routingKey.split('.')
  const match = (p: number, w: number): boolean => {
    if (p === pattern.length) return w === words.length
    if (pattern[p] === '#') return match(p + 1, w) || (w < words.length && match(p, w + 1))
    return w < words.length && (pattern[p] === '*' || pattern[p] === words[w]) && match(p + 1, w + 1)
  }
  return match(0, 0)
}

/** The delay queues of the vhost (celery_delayed_0…27) from a queue listing. */
export function delayQueues(all: MgmtQueue[]): MgmtQueue[] {
  return all.filter((q) => DELAY_QUEUE.test(q.name))
}

/**
 * Whether reading a delay queue's messages (basic.get, then returning them) leaves them as they were:
 * on a classic queue yes; a quorum queue counts each return as a delivery, which is harmless only
 * without a delivery limit (RabbitMQ 4 sets 20 by default: a message past it would be dead-lettered
 * into the next level, that is delivered early).
 */
export function safeToRead(q: MgmtQueue, serverVersion: string | undefined): boolean {
  if (q.type !== 'quorum') return q.type === 'classic' || q.type === undefined
  const limit = q.arguments?.['x-delivery-limit'] ?? q.effective_policy_definition?.['delivery-limit']
  const major = Number((serverVersion ?? '').split('.')[0])
  return limit === undefined && Number.isFinite(major) && major > 0 && major < 4
}

/** What counting needs from AMQP: exact ready counts, and the routing keys of a queue's messages (read and returned). */
export interface DelayQueueReader {
  readyCounts(queues: string[]): Promise<number[]>
  routingKeys(queue: string, limit: number): Promise<string[]>
}

/** Reading routing keys to share the delay queues out between several target queues stops here. */
const READ_LIMIT = 10_000

/**
 * Tasks for `queue` waiting in the delay queues: undefined when the queue takes no part in native
 * delayed delivery; `unknown` (why) when they cannot be told apart from other queues' without harm.
 */
export async function nativeDelayedCount(
  mgmt: MgmtClient,
  queue: string,
  reader: DelayQueueReader,
  serverVersion: string | undefined,
  lookup: () => Promise<NativeDelayTarget[] | undefined> = () => nativeDelayTargets(mgmt),
): Promise<{count: number} | {unknown: string} | undefined> {
  const targets = await lookup()
  const mine = targets?.filter((t) => t.queue === queue) ?? []
  if (!targets || mine.length === 0) return undefined
  const queues = delayQueues(await mgmt.listQueues())
  const counts = await reader.readyCounts(queues.map((q) => q.name))
  const total = counts.reduce((a, b) => a + b, 0)
  // one target queue: every delayed task is its own, nothing to read
  if (total === 0 || targets.every((t) => t.queue === queue)) return {count: total}
  if (total > READ_LIMIT) return {unknown: `${total} tasks in the delay queues are shared with other queues (over ${READ_LIMIT}, not read one by one)`}
  let count = 0
  for (const [i, q] of queues.entries()) {
    if (counts[i] === 0) continue
    if (!safeToRead(await mgmt.queue(q.name), serverVersion)) {
      return {unknown: `${q.name} is a quorum queue with a delivery limit: reading its tasks to tell their queues apart would count as deliveries`}
    }
    const keys = await reader.routingKeys(q.name, counts[i]!)
    count += keys.filter((k) => mine.some((t) => topicMatches(t.bindingKey, k))).length
  }
  return {count}
}
