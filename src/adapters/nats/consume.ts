// consume: one pull session per subscription (pull.ts) keeps the window full: never more
// unsettled leases plus messages asked for than `prefetch`. ack → +ACK, nack → -NAK (with its
// delay), extend → +WPI (working), deadLetter → publish to STREAM_DLQ then +TERM. A lease the
// server's ack_wait would end before `leaseMs` is kept alive with +WPI. Connection loss: the client
// reconnects by itself; the subscription waits for it up to `reconnectMs`, then ends. Messages
// that arrive after close() are handed straight back.
import type {ConsumerInfo} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'
import type {ConsumeOptions, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../../broker/contract.js'
import {SETTLED, SettleOnce} from '../../broker/kit/lease.js'
import {ClosedSignal, resumes} from '../../broker/kit/subscription.js'
import {ConnectionError, NotFoundError} from '../../kernel/errors.js'
import {fromDelivered} from './codec.js'
import {requestError} from './errors.js'
import {PullSession, type Delivered} from './pull.js'
import type {ConnectionWatch} from './watch.js'

export interface ConsumeContext {
  nc: NatsConnection
  info: ConsumerInfo
  label: string
  where: string
  watch: ConnectionWatch
  /** Publishes the message to the dead-letter stream (not the term). */
  deadLetter(msg: Delivered, reason: string): Promise<void>
}

const DEFAULT_EXPIRES_MS = 5000
/** Pull requests the server has not answered this long after they expired are taken as lost. */
const LOST_REQUEST_GRACE_MS = 3000

interface Window {
  outstanding: number
  /** Called when room frees. */
  refill(): void
}

class NatsLease extends SettleOnce implements Lease {
  readonly message: Message
  private keepAlive?: NodeJS.Timeout

  constructor(
    private readonly ctx: ConsumeContext,
    private readonly w: Window,
    private readonly msg: Delivered,
    leaseMs: number | undefined,
  ) {
    super()
    this.message = fromDelivered(ctx.label, msg)
    if (leaseMs !== undefined) this.keepUntil(Date.now() + leaseMs)
  }

  private get ackWaitMs(): number {
    return Number(this.ctx.info.config.ack_wait ?? 30e9) / 1e6
  }

  /** +WPI every half ack_wait until `until` is within one ack_wait. */
  private keepUntil(until: number): void {
    clearInterval(this.keepAlive)
    const ackWaitMs = this.ackWaitMs
    if (until - Date.now() <= ackWaitMs) return
    const timer = setInterval(() => {
      if (this.settled || Date.now() >= until - ackWaitMs / 2) clearInterval(timer)
      if (!this.settled) this.msg.working()
    }, Math.max(100, ackWaitMs / 2))
    timer.unref()
    this.keepAlive = timer
  }

  private async settle(action: () => Promise<void> | void): Promise<void> {
    if (!this.claim()) return
    clearInterval(this.keepAlive)
    this.w.outstanding--
    try {
      await action()
    } catch (error) {
      // not settled after all (no dead-letter stream, connection closed): the caller may try again
      this.unclaim()
      this.w.outstanding++
      throw requestError(error, this.ctx.where)
    } finally {
      this.w.refill()
    }
  }

  ack(): Promise<void> {
    // the hot path: a sync settle, no closure
    if (!this.claim()) return SETTLED
    clearInterval(this.keepAlive)
    this.w.outstanding--
    try {
      this.msg.ack()
    } catch (error) {
      this.unclaim()
      this.w.outstanding++
      return Promise.reject(requestError(error, this.ctx.where))
    } finally {
      this.w.refill()
    }
    return SETTLED
  }

  nack(o?: NackOptions): Promise<void> {
    const maxDeliver = this.ctx.info.config.max_deliver ?? -1
    // the server would never deliver it again: the dead-letter route instead of a silent drop
    if (maxDeliver > 0 && this.msg.info.deliveryCount >= maxDeliver) return this.settle(() => this.toDead(`max_deliver (${maxDeliver}) exhausted`))
    return this.settle(() => this.msg.nak(o?.delayMs))
  }

  deadLetter(reason: string): Promise<void> {
    return this.settle(() => this.toDead(reason))
  }

  async extend(ms: number): Promise<void> {
    if (this.settled) return
    this.msg.working()
    this.keepUntil(Date.now() + ms)
  }

  private async toDead(reason: string): Promise<void> {
    await this.ctx.deadLetter(this.msg, reason)
    this.msg.term()
  }
}

export function startConsumer(ctx: ConsumeContext, handler: LeaseHandler, options: ConsumeOptions): Subscription {
  const prefetch = Math.max(1, Math.floor(options.prefetch))
  const expires = Math.max(1000, options.pollWaitMs ?? DEFAULT_EXPIRES_MS)
  let open = true
  const closed = new ClosedSignal()
  const w: Window = {outstanding: 0, refill: () => refill()}
  const end = (error: Error | undefined) => {
    if (!open) return
    open = false
    clearInterval(timer)
    outage.dispose()
    session.close()
    closed.end(error)
  }
  const session = new PullSession(ctx.nc, ctx.info.stream_name, ctx.info.name, expires, {
    message: (msg) => {
      // brought by a pull after close(): hand it straight back
      if (!open) return msg.nak()
      w.outstanding++
      try {
        handler(new NatsLease(ctx, w, msg, options.leaseMs))
      } catch {
        // a throwing handler is the caller's bug; the lease stays unsettled and expires
      }
    },
    freed: () => refill(),
    trouble: (code, description) => {
      if (code === 409 && /deleted/.test(description)) end(new NotFoundError(`${ctx.label} went away: ${description}`))
      else if (code === 409 && /push/.test(description)) end(new NotFoundError(`${ctx.label} became a push consumer: ${description}`))
      else if (code === 400 || code === 500) end(new ConnectionError(`${ctx.where} refused the pull on ${ctx.label}: ${code} ${description}`))
      // 503 (JetStream not ready yet, after a restart), a leadership change: the timer asks again
      else session.reset()
    },
  })
  // while a pull is open, wait for a quarter of the window: many one-message pulls cost more than they bring
  const refill = () => {
    if (!open || !ctx.watch.up) return
    const room = prefetch - w.outstanding - session.requested
    if (room >= (session.requested > 0 ? Math.ceil(prefetch / 4) : 1)) session.pull(room)
  }
  const outage = watchOutage(ctx, options, end, () => {
    session.reset()
    refill()
  })
  const timer = setInterval(() => {
    if (session.requested > 0 && Date.now() - session.lastActivity > expires + LOST_REQUEST_GRACE_MS) session.reset()
    refill()
  }, 1000)
  refill()
  return {
    closed: closed.promise,
    resumes: resumes(options),
    close: async () => {
      end(undefined)
    },
  }
}

function watchOutage(ctx: ConsumeContext, options: ConsumeOptions, end: (e: Error | undefined) => void, resumed: () => void): {dispose(): void} {
  const reconnectMs = options.reconnectMs ?? 0
  let giveUp: NodeJS.Timeout | undefined
  let lost = false
  const off = ctx.watch.on((up) => {
    if (!up && !lost) {
      lost = true
      const error = new ConnectionError(`lost the connection to ${ctx.where}`, true)
      if (reconnectMs <= 0 || ctx.watch.closed) return end(error)
      options.onConnection?.('lost', error)
      giveUp = setTimeout(() => end(new ConnectionError(`lost the connection to ${ctx.where} and it did not come back within ${reconnectMs} ms`, true)), reconnectMs)
    } else if (up && lost) {
      lost = false
      clearTimeout(giveUp)
      options.onConnection?.('back')
      resumed()
    }
  })
  return {
    dispose: () => {
      clearTimeout(giveUp)
      off()
    },
  }
}
