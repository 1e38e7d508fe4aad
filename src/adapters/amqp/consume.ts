// Consuming: one channel per subscription with basic.qos prefetch, manual acks. Closing a
// subscription cancels the consumer but keeps the channel until every lease is settled (closing
// it would hand the unsettled messages back to the broker behind the caller's back).
// When the connection drops (broker restart), the subscription waits for the broker to reconnect
// (up to options.reconnectMs), opens a new channel and consumes again. RabbitMQ requeues whatever
// the dead channel had delivered; settling those leases does nothing (their delivery tags mean
// nothing on the new channel, and acking one there would close it): they come back as redeliveries.
// A failed attempt is requeued as a confirmed copy carrying the count (attempts.ts).
import type {Channel, ConsumeMessage} from 'amqplib'
import type {ConsumeOptions, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../../broker/contract.js'
import {SETTLED, SettleOnce} from '../../broker/kit/lease.js'
import {ClosedSignal, Outage, resumes, withDeadline} from '../../broker/kit/subscription.js'
import {sleep} from '../../kernel/backoff.js'
import {ConnectionError, NotSupportedError, UsageError, isUserError} from '../../kernel/errors.js'
import {AckBatcher, type Delivery, type DirectSettle} from './acks.js'
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
  /** Records a failed attempt in a copy (attempts.ts); undefined where messages are not requeued (streams). */
  attemptCopies: () => Promise<AttemptCopier | undefined>
  /** Called on every delivery and settlement (the broker's stats freshness depends on it). */
  onActivity: () => void
}

/** One channel's life: the leases it delivered are only settled on it, and only while it is open. */
interface Live {
  ch: Channel
  /** Its acks, batched per event-loop turn. */
  acks: AckBatcher
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
  const consumer = new AmqpConsumer(ctx, handler, options)
  await consumer.attach()
  return {closed: consumer.closed.promise, resumes: resumes(options), close: () => consumer.close()}
}

/**
 * One delivery: the lease, settled once on the channel that delivered it while that channel lives,
 * and the ack batcher's entry for it (one object a message, no closures).
 */
class AmqpLease extends SettleOnce implements Lease, Delivery {
  ackState = 0

  constructor(
    readonly msg: ConsumeMessage,
    readonly message: Message,
    private readonly live: Live,
    private readonly consumer: AmqpConsumer,
  ) {
    super()
  }

  // the hot path: the ack is batched for this turn's flush, nothing to wait for (no closure, no promise)
  ack(): Promise<void> {
    if (!this.claim()) return SETTLED
    const {live} = this
    // its channel died: RabbitMQ has requeued it already, and its delivery tag is void
    if (live.open) {
      try {
        live.acks.ack(this)
      } catch (error) {
        if (live.open) return this.outcome(Promise.reject(error as Error))
      }
    }
    this.consumer.settledOne()
    return SETTLED
  }

  nack(opts?: NackOptions): Promise<void> {
    if (!this.claim()) return SETTLED
    return this.outcome(this.onLive((ch) => this.consumer.nackOn(ch, this, this.live, opts)))
  }

  deadLetter(reason: string): Promise<void> {
    if (!this.claim()) return SETTLED
    return this.outcome(this.onLive((ch) => this.consumer.deadLetterOn(ch, this, reason)))
  }

  async extend(): Promise<void> {
    if (this.settled) return
    throw new NotSupportedError('an AMQP delivery has no lease to extend')
  }

  /** Settles on the channel that delivered it, while that channel lives. */
  private async onLive(how: (ch: DirectSettle) => Promise<void> | void): Promise<void> {
    // its channel died: RabbitMQ has requeued it already, and its delivery tag is void
    if (!this.live.open) return
    try {
      await how(this.live.acks.direct)
    } catch (error) {
      if (this.live.open) throw error // else it died midway: same as above
    }
  }

  /** A settle still under way: its slot is freed once it ended, done or failed (a failed one still counts). */
  private async outcome(answer: Promise<void>): Promise<void> {
    try {
      await answer
    } finally {
      this.consumer.settledOne()
    }
  }
}

class AmqpConsumer {
  readonly closed = new ClosedSignal()
  private stopping = false
  private unsettled = 0
  private live!: Live
  /** Our own close of the channel, once idle: closing the connection before it is done loses the last acks. */
  private closingChannel: Promise<void> | undefined
  private readonly sinkPromise: Promise<DeadLetterSink | undefined>
  private readonly copierPromise: Promise<AttemptCopier | undefined>

  constructor(
    private readonly ctx: ConsumeContext,
    private readonly handler: LeaseHandler,
    private readonly options: ConsumeOptions,
  ) {
    this.sinkPromise = ctx.deadLetters().catch(() => undefined)
    this.copierPromise = ctx.attemptCopies().catch(() => undefined)
  }

  private end(error: Error | undefined): void {
    this.closed.end(this.stopping ? undefined : error)
  }

  private closeChannelWhenIdle(): void {
    if (!(this.stopping && this.unsettled === 0 && this.live.open)) return
    this.live.acks.flush()
    this.closingChannel ??= this.live.ch.close().catch(() => {})
  }

  /** A lease's settle ended (done or failed): its prefetch slot is free. */
  settledOne(): void {
    this.ctx.onActivity()
    this.unsettled--
    this.closeChannelWhenIdle()
  }

  async nackOn(ch: DirectSettle, lease: AmqpLease, state: Live, opts?: NackOptions): Promise<void> {
    const {message} = lease
    if (opts?.delayMs) {
      ch.nack(lease, true)
      throw new NotSupportedError(`nack with a delay is not supported on amqp (no delayed-message exchange) — the message was requeued at once`)
    }
    const copy = opts?.failed ? await this.copierPromise : undefined
    if (!copy) return ch.nack(lease, true)
    try {
      await copy(lease.msg, message.attempts)
    } catch (error) {
      if (!state.open) return // RabbitMQ has requeued the original
      ch.nack(lease, true)
      throw new ConnectionError(
        `could not record attempt ${message.attempts} of message ${message.id} on "${this.ctx.queue}": ${(error as Error).message} — it was requeued as it was, so its attempts may not grow`,
      )
    }
    // the channel died meanwhile: the copy and the requeued original both come back (a duplicate, never a loss)
    if (state.open) ch.ack(lease)
  }

  async deadLetterOn(ch: DirectSettle, lease: AmqpLease, reason: string): Promise<void> {
    const sink = await this.sinkPromise
    if (sink?.missing) {
      ch.nack(lease, true)
      throw new NotSupportedError(`${sink.missing} — the message was requeued, not dropped`)
    }
    if (!sink) {
      // management API unknown: let the broker apply the queue's own DLX (none → RabbitMQ drops it)
      ch.nack(lease, false)
      return
    }
    await sink.deadLetter(lease.msg, reason, lease.message.attempts)
    ch.ack(lease)
  }

  /** Opens a channel and consumes on it; the old one (if any) is dead by now. */
  async attach(): Promise<void> {
    const {ctx} = this
    const ch = await ctx.openChannel()
    const state: Live = {ch, acks: new AckBatcher(ch, () => state.open), open: true, ready: false}
    this.live = state
    ch.on('error', (error: Error) => (state.error = error))
    ch.on('close', () => {
      state.open = false
      if (!state.ready || this.live !== state) return
      if (this.stopping) this.closed.end(undefined)
      else void this.recover(state)
    })
    try {
      await ch.prefetch(this.options.prefetch)
      state.consumerTag = (await ch.consume(ctx.queue, (msg) => this.onMessage(state, msg), {noAck: false})).consumerTag
      state.ready = true
    } catch (error) {
      await ch.close().catch(() => {})
      throw channelError(state.error ?? error, ctx.queue, ctx.where)
    }
  }

  private onMessage(state: Live, msg: ConsumeMessage | null): void {
    const {ch} = state
    if (msg === null) {
      // basic.cancel from the broker: the queue was deleted or the node went away
      state.error ??= new Error(`RabbitMQ cancelled the consumer (queue "${this.ctx.queue}" deleted?)`)
      void ch.close().catch(() => {})
      return
    }
    if (this.stopping) {
      // arrived between our cancel and its confirmation: hand it straight back
      ch.nack(msg, false, true)
      return
    }
    this.unsettled++
    const lease = new AmqpLease(msg, toMessage(msg, this.ctx.queue, 'inflight', true), state, this)
    state.acks.delivered(lease)
    this.ctx.onActivity()
    this.handler(lease)
  }

  private stopped(reason: string, transient: boolean): ConnectionError {
    return new ConnectionError(`consumer on "${this.ctx.queue}" at ${this.ctx.where} stopped: ${reason}`, transient)
  }

  /** Our channel closed without our asking: wait for a lost connection to come back and consume again. */
  private async recover(dead: Live): Promise<void> {
    // the connection's own close event comes right after its channels': let it land first
    await new Promise((resolve) => setImmediate(resolve))
    const outage = new Outage(this.options.reconnectMs ?? 0, this.options.onConnection)
    outage.begin()
    const timedOut = () => this.stopped(`the connection did not come back within ${Math.round(outage.budgetMs / 1000)} s`, true)
    // the broker closed the channel itself (queue deleted, refused): not an outage
    const refused = (reason?: Error) => this.end(this.stopped(reason?.message ?? 'the channel closed', false))
    if (dead.error) return refused(dead.error)
    if (outage.budgetMs <= 0) return this.end(this.stopped('the channel closed (lost the connection?)', true))
    for (;;) {
      const back = this.ctx.reconnected()
      if (!back) return refused()
      back.catch(() => {})
      outage.lost(new ConnectionError(`lost the connection to ${this.ctx.where}`, true))
      const left = outage.left()
      if (left <= 0) return this.end(timedOut())
      try {
        await withDeadline(back, left, timedOut)
      } catch (error) {
        return this.end(isUserError(error) ? error : this.stopped(String((error as Error)?.message ?? error), true))
      }
      if (this.stopping) return this.end(undefined)
      try {
        await this.attach()
        outage.over()
        return
      } catch (error) {
        // lost again while subscribing: go round; a refusal (queue gone, access denied) ends it
        if (!(error instanceof ConnectionError && (error.transient || !this.live.error))) return this.end(error as Error)
        await sleep(200)
      }
    }
  }

  async close(): Promise<void> {
    // called again (the broker closing): wait for a channel close under way, so that the
    // connection's close does not overtake the acks sent just before it (amqplib writes them first)
    if (this.stopping) return this.closingChannel
    this.stopping = true
    if (this.live.open && this.live.consumerTag) await this.live.ch.cancel(this.live.consumerTag).catch(() => {})
    this.closeChannelWhenIdle()
    if (!this.live.open) this.closed.end(undefined)
  }
}
