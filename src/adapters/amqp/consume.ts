// Consuming: one channel per subscription with basic.qos prefetch, manual acks. Closing a
// subscription cancels the consumer but keeps the channel until every lease is settled (closing
// it would hand the unsettled messages back to the broker behind the caller's back).
import type {Channel, ConsumeMessage} from 'amqplib'
import type {ConsumeOptions, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../contract.js'
import {ConnectionError, NotSupportedError, UsageError} from '../../core/errors.js'
import {toMessage} from './envelope.js'
import {channelError} from './errors.js'

export interface DeadLetterSink {
  /** Stores a copy of the message with the reason (confirmed), or says why it cannot. */
  deadLetter(msg: ConsumeMessage, reason: string): Promise<void>
  /** Known to have no dead-letter target: settling by dead-letter would lose the message. */
  readonly missing?: string
}

export interface ConsumeContext {
  queue: string
  where: string
  openChannel: () => Promise<Channel>
  deadLetters: () => Promise<DeadLetterSink | undefined>
  /** Called on every delivery and settlement (the broker's stats freshness depends on it). */
  onActivity: () => void
}

export async function startConsumer(ctx: ConsumeContext, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  if (!Number.isInteger(options.prefetch) || options.prefetch < 1 || options.prefetch > 65535) {
    throw new UsageError(`prefetch ${options.prefetch} is out of range — AMQP allows 1 to 65535`)
  }
  const ch = await ctx.openChannel()
  let brokerError: Error | undefined
  let resolveClosed!: (e: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve))
  let stopping = false
  let channelOpen = true
  let unsettled = 0
  let consumerTag: string | undefined

  ch.on('error', (error: Error) => (brokerError = error))
  ch.on('close', () => {
    channelOpen = false
    resolveClosed(stopping ? undefined : new ConnectionError(`consumer on "${ctx.queue}" at ${ctx.where} stopped: ${brokerError?.message ?? 'the channel closed'}`))
  })

  const closeChannelWhenIdle = () => {
    if (stopping && unsettled === 0 && channelOpen) void ch.close().catch(() => {})
  }

  const sinkPromise = ctx.deadLetters().catch(() => undefined)

  const onMessage = (msg: ConsumeMessage | null) => {
    if (msg === null) {
      // basic.cancel from the broker: the queue was deleted or the node went away
      brokerError ??= new Error(`RabbitMQ cancelled the consumer (queue "${ctx.queue}" deleted?)`)
      void ch.close().catch(() => {})
      return
    }
    if (stopping) {
      // arrived between our cancel and its confirmation: hand it straight back
      ch.nack(msg, false, true)
      return
    }
    unsettled++
    ctx.onActivity()
    handler(makeLease(msg, toMessage(msg, ctx.queue, 'inflight', true)))
  }

  const makeLease = (msg: ConsumeMessage, message: Message): Lease => {
    let settled = false
    const settle = async (how: () => Promise<void> | void) => {
      if (settled) return
      settled = true
      try {
        if (!channelOpen) {
          throw new ConnectionError(`the channel of "${ctx.queue}" closed before this message was settled — RabbitMQ will redeliver it`)
        }
        await how()
      } finally {
        ctx.onActivity()
        unsettled--
        closeChannelWhenIdle()
      }
    }
    return {
      message,
      ack: () => settle(() => ch.ack(msg)),
      nack: (opts?: NackOptions) =>
        settle(() => {
          if (opts?.delayMs) {
            ch.nack(msg, false, true)
            throw new NotSupportedError(`nack with a delay is not supported on amqp (no delayed-message exchange) — the message was requeued at once`)
          }
          ch.nack(msg, false, true)
        }),
      deadLetter: (reason: string) =>
        settle(async () => {
          const sink = await sinkPromise
          if (sink?.missing) {
            ch.nack(msg, false, true)
            throw new NotSupportedError(`${sink.missing} — the message was requeued, not dropped`)
          }
          if (!sink) {
            // management API unknown: let the broker apply the queue's own DLX (none → RabbitMQ drops it)
            ch.nack(msg, false, false)
            return
          }
          await sink.deadLetter(msg, reason)
          ch.ack(msg)
        }),
    }
  }

  try {
    await ch.prefetch(options.prefetch)
    consumerTag = (await ch.consume(ctx.queue, onMessage, {noAck: false})).consumerTag
  } catch (error) {
    await ch.close().catch(() => {})
    throw channelError(brokerError ?? error, ctx.queue, ctx.where)
  }

  return {
    closed,
    close: async () => {
      if (stopping) return
      stopping = true
      if (channelOpen && consumerTag) await ch.cancel(consumerTag).catch(() => {})
      closeChannelWhenIdle()
      if (!channelOpen) resolveClosed(undefined)
    },
  }
}
