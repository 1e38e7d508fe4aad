// Consuming: one channel per subscription with basic.qos prefetch, manual acks. Closing a
// subscription cancels the consumer but keeps the channel until every lease is settled (closing
// it would hand the unsettled messages back to the broker behind the caller's back).
// When the connection drops (broker restart), the subscription waits for the broker to reconnect
// (up to options.reconnectMs), opens a new channel and consumes again. RabbitMQ requeues whatever
// the dead channel had delivered; settling those leases does nothing (their delivery tags mean
// nothing on the new channel, and acking one there would close it): they come back as redeliveries.
// A failed attempt on a classic queue is requeued as a confirmed copy carrying the count (attempts.ts).
import type {Channel, ConsumeMessage} from 'amqplib'
import type {ConsumeOptions, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../../broker/contract.js'
import {refuse} from '../../broker/capabilities.js'
import {ConnectionError, NotSupportedError, UsageError, isUserError} from '../../kernel/errors.js'
import {AMQP_ADVICE} from './capabilities.js'
import type {AttemptCopier} from './attempts.js'
import {toMessage} from './envelope.js'
import {channelError} from './errors.js'

export interface DeadLetterSink {
  /** Stores a copy of the message with the reason (confirmed), or says why it cannot. */
  deadLetter(msg: ConsumeMessage, reason: string, attempts: number): Promise<void>
  /** Known to have no dead-letter target: settling by dead-letter would lose the message. */
  readonly missing?: string
}

export interface ConsumeContext {
  queue: string
  where: string
  openChannel: () => Promise<Channel>
  /**
   * After our channel closed: settles once the lost connection is back (openChannel works again),
   * rejecting when it will not come back; undefined when the connection is fine (the channel
   * itself was closed by the broker: a refusal, not an outage).
   */
  reconnected: () => Promise<void> | undefined
  deadLetters: () => Promise<DeadLetterSink | undefined>
  /** Records a failed attempt in a copy where the queue does not count deliveries (classic); undefined where it does. */
  attemptCopies: () => Promise<AttemptCopier | undefined>
  /** Called on every delivery and settlement (the broker's stats freshness depends on it). */
  onActivity: () => void
}

/** One channel's life: the leases it delivered are only settled on it, and only while it is open. */
interface Live {
  ch: Channel
  open: boolean
  /** Consuming (prefetch and basic.consume done): a close from here on is worth recovering from. */
  ready: boolean
  consumerTag?: string
  /** The broker's reason, when it closed the channel itself (channel error, basic.cancel). */
  error?: Error
}

export async function startConsumer(ctx: ConsumeContext, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  if (!Number.isInteger(options.prefetch) || options.prefetch < 1 || options.prefetch > 65535) {
    throw new UsageError(`prefetch ${options.prefetch} is out of range — AMQP allows 1 to 65535`)
  }
  let resolveClosed!: (e: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve))
  let stopping = false
  let unsettled = 0
  let live!: Live
  const end = (error: Error | undefined) => resolveClosed(stopping ? undefined : error)

  /** Our own close of the channel, once idle: closing the connection before it is done loses the last acks. */
  let closingChannel: Promise<void> | undefined
  const closeChannelWhenIdle = () => {
    if (stopping && unsettled === 0 && live.open) closingChannel ??= live.ch.close().catch(() => {})
  }

  const sinkPromise = ctx.deadLetters().catch(() => undefined)
  const copierPromise = ctx.attemptCopies().catch(() => undefined)

  const makeLease = (msg: ConsumeMessage, message: Message, state: Live): Lease => {
    let settled = false
    const settle = async (how: (ch: Channel) => Promise<void> | void) => {
      if (settled) return
      settled = true
      try {
        // its channel died: RabbitMQ has requeued it already, and its delivery tag is void
        if (!state.open) return
        await how(state.ch)
      } catch (error) {
        if (state.open) throw error // else it died midway: same as above
      } finally {
        ctx.onActivity()
        unsettled--
        closeChannelWhenIdle()
      }
    }
    return {
      message,
      ack: () => settle((ch) => ch.ack(msg)),
      nack: (opts?: NackOptions) =>
        settle(async (ch) => {
          if (opts?.delayMs) {
            ch.nack(msg, false, true)
            throw new NotSupportedError(`nack with a delay is not supported on amqp (no delayed-message exchange) — the message was requeued at once`)
          }
          const copy = opts?.failed ? await copierPromise : undefined
          if (!copy) return ch.nack(msg, false, true)
          try {
            await copy(msg, message.attempts)
          } catch (error) {
            if (!state.open) return // RabbitMQ has requeued the original
            ch.nack(msg, false, true)
            throw new ConnectionError(
              `could not record attempt ${message.attempts} of message ${message.id} on "${ctx.queue}": ${(error as Error).message} — it was requeued as it was, so its attempts may not grow`,
            )
          }
          // the channel died meanwhile: the copy and the requeued original both come back (a duplicate, never a loss)
          if (state.open) ch.ack(msg)
        }),
      deadLetter: (reason: string) =>
        settle(async (ch) => {
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
          await sink.deadLetter(msg, reason, message.attempts)
          ch.ack(msg)
        }),
      extend: async () => {
        throw refuse('extend', `queue "${ctx.queue}"`, {advice: AMQP_ADVICE})
      },
    }
  }

  /** Opens a channel and consumes on it; the old one (if any) is dead by now. */
  const attach = async (): Promise<void> => {
    const ch = await ctx.openChannel()
    const state: Live = {ch, open: true, ready: false}
    live = state
    ch.on('error', (error: Error) => (state.error = error))
    ch.on('close', () => {
      state.open = false
      if (!state.ready || live !== state) return
      if (stopping) resolveClosed(undefined)
      else void recover(state)
    })
    const onMessage = (msg: ConsumeMessage | null) => {
      if (msg === null) {
        // basic.cancel from the broker: the queue was deleted or the node went away
        state.error ??= new Error(`RabbitMQ cancelled the consumer (queue "${ctx.queue}" deleted?)`)
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
      handler(makeLease(msg, toMessage(msg, ctx.queue, 'inflight', true), state))
    }
    try {
      await ch.prefetch(options.prefetch)
      state.consumerTag = (await ch.consume(ctx.queue, onMessage, {noAck: false})).consumerTag
      state.ready = true
    } catch (error) {
      await ch.close().catch(() => {})
      throw channelError(state.error ?? error, ctx.queue, ctx.where)
    }
  }

  /** Our channel closed without our asking: wait for a lost connection to come back and consume again. */
  const recover = async (dead: Live): Promise<void> => {
    // the connection's own close event comes right after its channels': let it land first
    await new Promise((resolve) => setImmediate(resolve))
    const since = Date.now()
    const budget = options.reconnectMs ?? 0
    const why = dead.error
    const stopped = (reason: string, transient: boolean) => new ConnectionError(`consumer on "${ctx.queue}" at ${ctx.where} stopped: ${reason}`, transient)
    const timedOut = () => stopped(`the connection did not come back within ${Math.round(budget / 1000)} s`, true)
    // the broker closed the channel itself (queue deleted, refused): not an outage
    const refused = (reason?: Error) => end(stopped(reason?.message ?? 'the channel closed', false))
    if (why) return refused(why)
    if (budget <= 0) return end(stopped('the channel closed (lost the connection?)', true))
    let told = false
    for (;;) {
      const back = ctx.reconnected()
      if (!back) return refused()
      back.catch(() => {})
      if (!told) {
        told = true
        options.onConnection?.('lost', new ConnectionError(`lost the connection to ${ctx.where}`, true))
      }
      const left = budget - (Date.now() - since)
      if (left <= 0) return end(timedOut())
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          back,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(timedOut()), left)
          }),
        ])
      } catch (error) {
        return end(isUserError(error) ? error : stopped(String((error as Error)?.message ?? error), true))
      } finally {
        clearTimeout(timer)
      }
      if (stopping) return end(undefined)
      try {
        await attach()
        options.onConnection?.('back')
        return
      } catch (error) {
        // lost again while subscribing: go round; a refusal (queue gone, access denied) ends it
        if (!(error instanceof ConnectionError && (error.transient || !live.error))) return end(error as Error)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }

  await attach()

  return {
    closed,
    resumes: (options.reconnectMs ?? 0) > 0,
    close: async () => {
      // called again (the broker closing): wait for a channel close under way, so that the
      // connection's close does not overtake the acks sent just before it (amqplib writes them first)
      if (stopping) return closingChannel
      stopping = true
      if (live.open && live.consumerTag) await live.ch.cancel(live.consumerTag).catch(() => {})
      closeChannelWhenIdle()
      if (!live.open) resolveClosed(undefined)
    },
  }
}
