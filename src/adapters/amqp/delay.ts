// Delay on RabbitMQ exists only through the rabbitmq_delayed_message_exchange plugin: publish to an
// x-delayed-message exchange with an x-delay header and the plugin routes the message when due.
// Without the plugin we refuse and spell out the usual alternative (a TTL queue dead-lettering
// into the real one), rather than sending at once and pretending.
import type {Channel} from 'amqplib'
import {NotSupportedError} from '../../kernel/errors.js'

export const DELAYED_EXCHANGE = 'queuectl.delayed'

/** Declares our delayed exchange (direct routing underneath) and binds the queue by its name. */
export async function ensureDelayedBinding(ch: Channel, queue: string): Promise<void> {
  await ch.assertExchange(DELAYED_EXCHANGE, 'x-delayed-message', {durable: true, arguments: {'x-delayed-type': 'direct'}})
  await ch.bindQueue(queue, DELAYED_EXCHANGE, queue)
}

export function noDelayError(queue: string): NotSupportedError {
  return new NotSupportedError(
    `RabbitMQ cannot delay messages without the rabbitmq_delayed_message_exchange plugin (not enabled here) — enable it, or publish to a holding queue declared with x-message-ttl=<delay ms> and x-dead-letter-exchange="" x-dead-letter-routing-key=${queue} so expired messages move into "${queue}"`,
  )
}
