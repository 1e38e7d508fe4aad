// Celery 5.5's native delayed delivery, declared on a private vhost exactly as its own code declares
// it (Celery 5.5 cannot run here: Debian has 5.2). Each function names the source it reproduces.
import amqp, {type Channel} from 'amqplib'
import {AMQP_URL, MGMT_AUTH, MGMT_URL, PREFIX} from './helpers.js'

/** A vhost of our own: the celery_delayed_* names are per vhost, and other tests share "/". */
export async function createVhost(hint: string): Promise<{vhost: string; url: string; celeryUrl: string; drop: () => Promise<void>}> {
  const vhost = `${PREFIX}-${hint}`
  const api = (path: string, method: string, body?: unknown) =>
    fetch(`${MGMT_URL}/api/${path}`, {method, headers: {authorization: MGMT_AUTH, 'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
  const made = await api(`vhosts/${encodeURIComponent(vhost)}`, 'PUT', {})
  if (!made.ok) throw new Error(`could not create vhost ${vhost}: HTTP ${made.status}`)
  await api(`permissions/${encodeURIComponent(vhost)}/guest`, 'PUT', {configure: '.*', write: '.*', read: '.*'})
  const url = `${AMQP_URL.replace(/\/$/, '')}/${encodeURIComponent(vhost)}`
  return {vhost, url, celeryUrl: url, drop: async () => void (await api(`vhosts/${encodeURIComponent(vhost)}`, 'DELETE'))}
}

export async function withChannel<T>(url: string, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(url)
  try {
    const ch = await conn.createChannel()
    return await fn(ch)
  } finally {
    await conn.close()
  }
}

/**
 * kombu 5.5.4, kombu/transport/native_delayed_delivery.py, declare_native_delayed_delivery_exchanges_and_queues
 * (called by celery 5.5.3 celery/worker/consumer/delayed_delivery.py with broker_native_delayed_delivery_queue_type,
 * 'quorum' by default): 28 levels, 27 down to 0, each a topic exchange and a queue of the same name.
 * kombu's Exchange and Queue are durable by default.
 */
export async function declareNativeDelayedDelivery(ch: Channel, queueType: 'classic' | 'quorum' = 'quorum'): Promise<void> {
  let routingKey = '1.#'
  for (let level = 27; level >= 0; level--) {
    const current = `celery_delayed_${level}`
    await ch.assertExchange(current, 'topic', {durable: true})
    const args: Record<string, unknown> = {
      'x-queue-type': queueType,
      'x-overflow': 'reject-publish',
      'x-message-ttl': 2 ** level * 1000,
      'x-dead-letter-exchange': level > 0 ? `celery_delayed_${level - 1}` : 'celery_delayed_delivery',
    }
    if (queueType === 'quorum') args['x-dead-letter-strategy'] = 'at-least-once'
    await ch.assertQueue(current, {durable: true, arguments: args})
    await ch.bindQueue(current, current, routingKey)
    routingKey = `*.${routingKey}`
  }
  routingKey = '0.#'
  for (let level = 27; level > 0; level--) {
    // kombu's next_level_exchange.bind_to(current_level, routing_key): exchange.bind(destination, source)
    await ch.bindExchange(`celery_delayed_${level - 1}`, `celery_delayed_${level}`, routingKey)
    routingKey = `*.${routingKey}`
  }
  await ch.assertExchange('celery_delayed_delivery', 'topic', {durable: true})
  await ch.bindExchange('celery_delayed_delivery', 'celery_delayed_0', routingKey)
}

/**
 * A worker's queue as Celery 5.5 sets it up with native delayed delivery: the queue declared and bound
 * to its own topic exchange for its routing key (kombu Queue(name, Exchange(name, 'topic'), routing_key=name),
 * task_default_exchange_type='topic'), then kombu 5.5.4 bind_queue_to_native_delayed_delivery_exchange:
 * the exchange bound to celery_delayed_delivery and the queue to the exchange, both for "#.<routing key>".
 */
export async function declareCelery55Queue(ch: Channel, queue: string, options: {bindForDelay: boolean}): Promise<void> {
  await ch.assertExchange(queue, 'topic', {durable: true})
  await ch.assertQueue(queue, {durable: true})
  await ch.bindQueue(queue, queue, queue)
  if (!options.bindForDelay) return
  await ch.bindExchange(queue, 'celery_delayed_delivery', `#.${queue}`)
  await ch.bindQueue(queue, queue, `#.${queue}`)
}
