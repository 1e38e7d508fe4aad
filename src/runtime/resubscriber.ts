// Keeps a worker subscribed: a subscription lost to a passing broker outage is taken up again (by
// the adapter, which resumes by itself, or by subscribing again with back-off) for up to
// reconnectTimeoutMs; a permanent refusal or a longer outage gives up with the error.
import type {Broker, Lease, Subscription} from '../broker/contract.js'
import {isTransient} from '../kernel/errors.js'
import {backoffDelay, type BackoffOptions} from '../kernel/backoff.js'

/** Waits between subscribe attempts during an outage: 250 ms doubling to 5 s, half of it random. */
const RESUBSCRIBE_BACKOFF: BackoffOptions = {initialMs: 250, maxMs: 5000, factor: 2, jitter: 0.5}

const now = () => performance.now()

export interface ResubscriberHost {
  broker: Broker
  queue: string
  prefetch: number
  leaseMs: number
  reconnectTimeoutMs: number
  onLease: (lease: Lease) => void
  /** The worker still wants its subscription. */
  isRunning: () => boolean
  onReconnecting: (error: Error) => void
  onReconnected: (downMs: number) => void
  /** Subscribing again failed for good: the worker stops with the error. */
  onGiveUp: (error: Error) => void
}

export class Resubscriber {
  /** The current subscription. */
  subscription: Subscription | undefined
  /** Wakes a resubscribe back-off early (close()). */
  private wake: (() => void) | undefined
  /** When the current broker outage began. */
  private outageSince: number | undefined

  constructor(private readonly host: ResubscriberHost) {}

  /** Subscribes, and keeps the subscription up from then on. */
  async start(): Promise<void> {
    this.watch(await this.subscribe())
  }

  /** Stops waiting and closes the subscription. */
  async close(): Promise<void> {
    this.wake?.()
    await this.subscription?.close()
  }

  /** The adapter's word on its connection, or ours after subscribing again. */
  readonly onConnection = (state: 'lost' | 'back', error?: Error): void => {
    if (state === 'lost') {
      this.outageSince ??= now()
      this.host.onReconnecting(error ?? new Error('lost the connection'))
    } else if (this.outageSince !== undefined) {
      this.host.onReconnected(now() - this.outageSince)
      this.outageSince = undefined
    }
  }

  private async subscribe(): Promise<Subscription> {
    const {host} = this
    const options = {prefetch: host.prefetch, leaseMs: host.leaseMs, reconnectMs: host.reconnectTimeoutMs, onConnection: this.onConnection}
    const subscription = await host.broker.consume(host.queue, host.onLease, options)
    this.subscription = subscription
    if (!host.isRunning()) await subscription.close()
    return subscription
  }

  /** When the subscription ends by itself: subscribe again through a passing outage, else give up with the error. */
  private watch(subscription: Subscription): void {
    const {host} = this
    void subscription.closed.then(async (lost) => {
      if (!lost || !host.isRunning() || subscription !== this.subscription) return
      const since = now()
      let error: Error = lost
      // a subscription that resumes by itself has already waited reconnectTimeoutMs
      for (let attempt = 1; host.isRunning() && !subscription.resumes; attempt++) {
        if (!isTransient(error) || now() - since >= host.reconnectTimeoutMs) break
        const delayMs = Math.min(backoffDelay(attempt, RESUBSCRIBE_BACKOFF), Math.max(0, host.reconnectTimeoutMs - (now() - since)))
        if (attempt === 1) this.onConnection('lost', error)
        await new Promise<void>((resolve) => {
          this.wake = resolve
          setTimeout(resolve, delayMs)
        })
        this.wake = undefined
        if (!host.isRunning()) return
        try {
          const next = await this.subscribe()
          this.onConnection('back')
          this.watch(next)
          return
        } catch (thrown) {
          error = thrown instanceof Error ? thrown : new Error(String(thrown))
        }
      }
      if (host.isRunning()) host.onGiveUp(error)
    })
  }
}
