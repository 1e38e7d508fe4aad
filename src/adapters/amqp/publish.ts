// Confirmed publishing: every message is published mandatory (and persistent unless asked otherwise) on a confirm channel,
// with a bounded window of unconfirmed messages (so a big batch neither floods the socket nor the
// broker), and the caller learns exactly how many RabbitMQ confirmed if the channel dies midway.
import type {ConfirmChannel, Message as AmqpMessage} from 'amqplib'
import {EnqueueError, ExitCode, InterruptedError, NotFoundError} from '../../kernel/errors.js'
import type {Outgoing} from './envelope.js'
import {replyText} from './errors.js'

/** Unconfirmed messages allowed in flight at once. */
export const CONFIRM_WINDOW = 1000
/** onProgress is called at least every this many confirms. */
const PROGRESS_EVERY = 500

/** The channel closed partway: how many were published and how many the broker confirmed. */
export class AmqpEnqueueError extends EnqueueError {
  constructor(
    message: string,
    readonly published: number,
    readonly confirmed: number,
    exitCode: number = ExitCode.connection,
    more: {pending?: number[]; transient?: boolean} = {},
  ) {
    super(message, confirmed, exitCode, more)
  }
}

export interface PublishTarget {
  exchange: string
  routingKey: string
}

export interface PublishRun {
  queue: string
  where: string
  signal?: AbortSignal
  onProgress?: (sent: number) => void
  /** Told once every message is published on the channel (confirms still to come). Confirmed publishing only. */
  onWritten?: () => void
  /** Where each message goes (the default exchange, or the delayed-message exchange). */
  target: (m: Outgoing) => PublishTarget
  /** Why the channel closed, when the broker said (set by the channel's error listener). */
  closeReason: () => string | undefined
  /** The whole connection dropped (not just our channel): sending the unconfirmed again later may work. */
  connectionLost?: () => boolean
  /** Why RabbitMQ blocks publishers on this connection (connection.blocked: a resource alarm). */
  blocked: () => string | undefined
  /** Give up after being blocked this long. */
  blockedLimitMs: number
}

export async function publishConfirmed(ch: ConfirmChannel, items: Outgoing[], run: PublishRun): Promise<void> {
  const batch = new ConfirmedBatch(ch, items, run)
  // a blocked connection takes publishes but never confirms them: notice it instead of hanging
  const watchdog = watchBlocked(run, (error) => batch.fail(error))
  try {
    await batch.publishAll()
  } finally {
    clearInterval(watchdog)
    batch.unlisten()
  }
  batch.report()
}

/** One confirmed batch on one channel: what was published, confirmed, nacked, returned. */
class ConfirmedBatch {
  private published = 0
  private confirmed = 0
  private nacked = 0
  private failure: Error | undefined
  private lastReported = 0
  private readonly returned = new Set<string>()
  /** Per message: 1 confirmed, 2 nacked (0: not published, or no answer yet). */
  private readonly outcome: Uint8Array
  private wake: (() => void) | undefined
  private needDrain = false
  private readonly onReturn = (msg: AmqpMessage) => this.returned.add(String(msg.properties.messageId))
  private readonly onClose = () => this.fail(new Error(this.run.closeReason() ?? 'channel closed'))
  private readonly onDrain = () => {
    this.needDrain = false
    this.nudge()
  }

  constructor(
    private readonly ch: ConfirmChannel,
    private readonly items: Outgoing[],
    private readonly run: PublishRun,
  ) {
    this.outcome = new Uint8Array(items.length)
    ch.on('return', this.onReturn)
    ch.on('close', this.onClose)
    ch.on('drain', this.onDrain)
  }

  unlisten(): void {
    this.ch.off('return', this.onReturn)
    this.ch.off('close', this.onClose)
    this.ch.off('drain', this.onDrain)
  }

  fail(error: Error): void {
    this.failure ??= error
    this.nudge()
  }

  private nudge(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private settled(): number {
    return this.confirmed + this.nacked
  }

  private async waitUntil(done: () => boolean): Promise<void> {
    while (!done() && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve))
  }

  private onConfirm(index: number, err: unknown): void {
    if (err) {
      const text = String((err as Error)?.message ?? err)
      if (/nack/i.test(text)) {
        this.nacked++
        this.outcome[index] = 2
      } else this.failure ??= new Error(this.run.closeReason() ?? text)
    } else {
      this.confirmed++
      this.outcome[index] = 1
    }
    if (this.run.onProgress && this.confirmed - this.lastReported >= PROGRESS_EVERY) {
      this.lastReported = this.confirmed
      this.run.onProgress(this.confirmed)
    }
    if (this.wake) this.nudge()
  }

  async publishAll(): Promise<void> {
    const {items, run} = this
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!
      if (run.signal?.aborted) throw new InterruptedError(`enqueue interrupted after ${this.confirmed} of ${items.length} confirmed`)
      // only await when the window is full: an await per message costs more than the publish
      if (this.published - this.settled() >= CONFIRM_WINDOW) await this.waitUntil(() => this.published - this.settled() < CONFIRM_WINDOW)
      if (this.failure) break
      const {exchange, routingKey} = run.target(item)
      let ok: boolean
      try {
        ok = this.ch.publish(exchange, routingKey, item.content, item.options, (err: unknown) => this.onConfirm(index, err))
      } catch (error) {
        this.failure ??= new Error(run.closeReason() ?? replyText(error))
        break
      }
      this.published++
      if (!ok) {
        this.needDrain = true
        await this.waitUntil(() => !this.needDrain)
      }
    }
    if (!this.failure) run.onWritten?.()
    await this.waitUntil(() => this.settled() >= this.published)
  }

  /** Throws what went wrong with the batch, if anything; reports the last progress. */
  report(): void {
    const {items, run, failure, published, confirmed} = this
    if (failure && /larger than configured max size/.test(failure.message)) {
      throw new AmqpEnqueueError(
        `RabbitMQ refused a message to "${run.queue}" as too large (${replyText(failure)}): ${confirmed} of ${items.length} confirmed, the rest were not stored — split the payload or raise max_message_size in rabbitmq.conf`,
        published,
        confirmed,
        ExitCode.notFound,
      )
    }
    if (failure && /ACCESS_REFUSED/.test(failure.message)) {
      // a permission is refused on the first publish and the channel closes: nothing unconfirmed landed
      throw new AmqpEnqueueError(
        `RabbitMQ at ${run.where} refused to let this user write to "${run.queue}" (${replyText(failure)}): ${confirmed} of ${items.length} stored, the rest NOT — give the user write permission on the vhost (rabbitmqctl set_permissions -p VHOST USER CONFIGURE WRITE READ, with WRITE matching the exchange), or use another user`,
        published,
        confirmed,
        ExitCode.connection,
      )
    }
    if (failure) {
      const pending: number[] = []
      // unconfirmed, nacked, or confirmed only after coming back unroutable (basic.return)
      for (let i = 0; i < items.length; i++) if (this.outcome[i] !== 1 || this.returned.has(String(items[i]!.options.messageId))) pending.push(i)
      throw new AmqpEnqueueError(
        `the channel to ${run.where} closed during the batch: ${published} of ${items.length} published, ${confirmed} confirmed by RabbitMQ (${replyText(failure)}) — the ${published - confirmed} unconfirmed may or may not be in "${run.queue}"; re-send the unconfirmed if duplicates are acceptable`,
        published,
        confirmed,
        ExitCode.connection,
        {pending, transient: run.connectionLost?.() ?? false},
      )
    }
    if (run.onProgress && confirmed !== this.lastReported) run.onProgress(confirmed)
    if (this.nacked > 0) {
      throw new AmqpEnqueueError(
        `RabbitMQ refused ${this.nacked} of ${items.length} messages to "${run.queue}" (basic.nack) — the queue may be full (x-max-length with x-overflow=reject-publish) or the broker short of resources; ${confirmed} were stored`,
        published,
        confirmed,
        ExitCode.checkFailed,
      )
    }
    if (this.returned.size > 0) {
      throw new NotFoundError(
        `${this.returned.size} of ${items.length} messages could not be routed to "${run.queue}" (basic.return: the queue vanished while sending?) — they were NOT stored; check the queue exists`,
      )
    }
  }
}

/**
 * Publishing without confirms (EnqueueOptions.confirms: false): each message is written to the
 * socket and counted as sent; RabbitMQ never says whether it stored it. Only the socket's
 * back-pressure ('drain') and the channel closing are noticed.
 */
export async function publishUnconfirmed(ch: ConfirmChannel, items: Outgoing[], run: PublishRun): Promise<void> {
  let published = 0
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const nudge = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const onClose = () => {
    failure ??= new Error(run.closeReason() ?? 'channel closed')
    nudge()
  }
  ch.on('close', onClose)
  ch.on('drain', nudge)
  const watchdog = watchBlocked(run, (error) => {
    failure ??= error
    nudge()
  })
  try {
    for (const item of items) {
      if (run.signal?.aborted) throw new InterruptedError(`enqueue interrupted after ${published} of ${items.length} published (unconfirmed)`)
      if (failure) break
      const {exchange, routingKey} = run.target(item)
      let ok: boolean
      try {
        ok = ch.publish(exchange, routingKey, item.content, item.options)
      } catch (error) {
        failure ??= new Error(run.closeReason() ?? replyText(error))
        break
      }
      published++
      if (!ok && !failure) await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    clearInterval(watchdog)
    ch.off('close', onClose)
    ch.off('drain', nudge)
  }
  if (failure) {
    throw new AmqpEnqueueError(
      `the channel to ${run.where} closed during the batch: ${published} of ${items.length} published without confirms (${replyText(failure)}) — whether RabbitMQ stored them is unknown; send with confirms to know`,
      published,
      published,
    )
  }
  run.onProgress?.(published)
}

/** Calls onBlocked once RabbitMQ has blocked publishing (a memory or disk alarm) for longer than run.blockedLimitMs. */
function watchBlocked(run: PublishRun, onBlocked: (error: Error) => void): NodeJS.Timeout {
  let blockedSince: number | undefined
  const watchdog = setInterval(() => {
    const reason = run.blocked()
    if (!reason) blockedSince = undefined
    else if (blockedSince === undefined) blockedSince = Date.now()
    else if (Date.now() - blockedSince > run.blockedLimitMs) {
      onBlocked(new Error(`RabbitMQ blocks publishing (${reason}): a memory or disk alarm on the broker — free memory or disk there, then retry`))
    }
  }, 250)
  watchdog.unref()
  return watchdog
}
