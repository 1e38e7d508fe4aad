// Where a queue's dead letters go, from the management API: the queue's x-dead-letter-exchange /
// x-dead-letter-routing-key arguments or its policy's dead-letter-exchange / dead-letter-routing-key,
// then the queue(s) bound to that exchange for that key. AMQP alone cannot read queue arguments.
import type {ConfirmChannel, ConsumeMessage} from 'amqplib'
import {ConnectionError} from '../../kernel/errors.js'
import {copyProperties} from './attempts.js'
import type {DeadLetterSink} from './consume.js'
import {ATTEMPTS_HEADER, DEAD_FROM_HEADER, ERROR_HEADER} from './envelope.js'
import {replyText} from './errors.js'
import type {MgmtClient, MgmtQueue} from './mgmt.js'

export interface DeadLetterRoute {
  exchange: string
  /** Routing key dead letters are published with (RabbitMQ keeps the original when unset). */
  routingKey: string
  /** The queue they land in, when exactly one is bound for that key. */
  queue?: string
}

function deadLetterArgs(q: MgmtQueue): {exchange: string; routingKey?: string} | undefined {
  const args = q.arguments ?? {}
  const policy = q.effective_policy_definition ?? {}
  const exchange = args['x-dead-letter-exchange'] ?? policy['dead-letter-exchange']
  if (typeof exchange !== 'string') return undefined
  const rk = args['x-dead-letter-routing-key'] ?? policy['dead-letter-routing-key']
  return {exchange, routingKey: typeof rk === 'string' ? rk : undefined}
}

export async function resolveDeadLetterRoute(mgmt: MgmtClient, q: MgmtQueue): Promise<DeadLetterRoute | undefined> {
  const dlx = deadLetterArgs(q)
  if (!dlx) return undefined
  const routingKey = dlx.routingKey ?? q.name
  if (dlx.exchange === '') {
    // the default exchange routes by queue name; dead-lettering back into the same queue is no DLQ
    return {exchange: '', routingKey, queue: routingKey === q.name ? undefined : routingKey}
  }
  let queue: string | undefined
  try {
    const [type, bindings] = await Promise.all([mgmt.exchangeType(dlx.exchange), mgmt.bindingsFrom(dlx.exchange)])
    const toQueues = bindings.filter((b) => b.destination_type === 'queue')
    const matching = type === 'fanout' ? toQueues : type === 'direct' ? toQueues.filter((b) => b.routing_key === routingKey) : toQueues
    const names = [...new Set(matching.map((b) => b.destination))]
    if (names.length === 1) queue = names[0]
  } catch {
    // the exchange may not exist yet; messages would then be dropped by RabbitMQ, which stats shows
  }
  return {exchange: dlx.exchange, routingKey, queue}
}

/**
 * Our dead-letter: a confirmed copy carrying the reason goes where the queue's DLX sends dead
 * letters, then the caller acks the original — at worst a duplicate, never a loss. (A plain
 * basic.reject would dead-letter too, but RabbitMQ records only "rejected", not why.)
 */
export async function deadLetterSink(mgmt: MgmtClient, queue: string, username: string, publisher: () => Promise<ConfirmChannel>): Promise<DeadLetterSink> {
  const route = await resolveDeadLetterRoute(mgmt, await mgmt.queue(queue))
  if (!route) return {missing: `queue "${queue}" has no dead-letter exchange`, deadLetter: async () => {}}
  return {
    deadLetter: async (msg: ConsumeMessage, reason: string, attempts: number) => {
      const ch = await publisher()
      // the dead letter carries its deliveries in our header: a count of the source queue's
      // (x-delivery-count) would mean nothing in the dead-letter queue
      const props = copyProperties(msg, {[ERROR_HEADER]: reason.slice(0, 1000), [DEAD_FROM_HEADER]: queue, [ATTEMPTS_HEADER]: attempts}, username)
      await new Promise<void>((resolve, reject) => {
        ch.publish(route.exchange, route.routingKey, msg.content, {...props, persistent: true}, (err) =>
          err ? reject(new ConnectionError(`could not dead-letter to ${route.exchange || '(default exchange)'}: ${replyText(err)}`)) : resolve(),
        )
      })
    },
  }
}
