// Keeps a worker's leases (as BullMQ's LockManager keeps its locks): one interval, not a timer per
// job, extends the leases of running jobs where the broker can and times jobs out; and every settle
// call (ack, nack, extend) is tracked so closing waits for the last one to land, with the failures
// of one broker outage reported once.
import {isTransient} from '../kernel/errors.js'
import {SETTLED} from '../broker/kit/lease.js'
import type {SlotPool} from './slots.js'

export interface LeaseKeeperOptions {
  leaseMs: number
  /** Per-job timeout in ms; 0: none. */
  timeoutMs: number
  /** A job ran out of time: fail it (its slot, at its generation). */
  onTimeout: (index: number, gen: number, error: Error) => void
  /** A settle failed (once per outage for a lost connection). */
  onError: (error: Error) => void
  /** No settle call is in flight any more. */
  onSettled: () => void
}

export class LeaseKeeper {
  private ticker: NodeJS.Timeout | undefined
  private ticks = 0
  private tickMs = 1000
  private extend = false
  private inFlight = 0
  private knownSettled: Promise<void> | undefined
  /** Settles failed on a lost connection since the last reconnect: only the first is reported. */
  private failuresThisOutage = 0

  constructor(
    private readonly pool: SlotPool,
    private readonly options: LeaseKeeperOptions,
  ) {}

  /** The ticker's count: a running job's start, for its timeout and its next extension. */
  get tick(): number {
    return this.ticks
  }

  /** Settle calls not answered yet. */
  get settling(): number {
    return this.inFlight
  }

  /** Starts the interval; `extend`: the broker can extend a lease. */
  start(extend: boolean): void {
    const {timeoutMs, leaseMs} = this.options
    this.extend = extend
    this.tickMs = Math.max(5, Math.min(timeoutMs > 0 ? timeoutMs / 10 : Infinity, leaseMs / 4, 1000))
    this.ticker = setInterval(() => this.onTick(), this.tickMs)
    this.ticker.unref()
  }

  stop(): void {
    clearInterval(this.ticker)
  }

  /** The broker is back: the next settle failure is news again. */
  outageOver(): void {
    this.failuresThisOutage = 0
  }

  /** Tracks a broker settle call so close() waits for the last ack to land. */
  settle(promise: Promise<void>): void {
    // a settle done when it returned (the kit's SETTLED: memory, Kafka and NATS acks), or an
    // adapter's own shared, already-settled promise, needs no tracking
    if (promise === SETTLED || promise === this.knownSettled) return
    this.inFlight++
    promise.then(() => {
      this.knownSettled = promise
      this.failuresThisOutage = 0
      this.onSettled()
    }, this.onSettleError)
  }

  private readonly onSettled = (): void => {
    if (--this.inFlight === 0) this.options.onSettled()
  }

  private readonly onSettleError = (error: unknown): void => {
    // a broker outage fails every settle in flight at once: say it once per outage, not once per
    // message (those messages come back when their leases expire)
    if (isTransient(error) && this.failuresThisOutage++ > 0) {
      this.onSettled()
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    const e = isTransient(error) ? new Error(`${message} — settling fails until the broker is back; those messages are redelivered when their leases expire`) : error instanceof Error ? error : new Error(message)
    this.options.onError(e)
    this.onSettled()
  }

  /** Timeouts and lease extension for every running job. */
  private onTick(): void {
    this.ticks++
    if (this.pool.running === 0) return
    const {timeoutMs, leaseMs} = this.options
    const slots = this.pool.slots
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!
      const lease = slot.lease
      if (!lease) continue
      // a job is at least (ticks - startTick - 1) whole ticks old; never time out early
      if (timeoutMs > 0 && (this.ticks - slot.startTick - 1) * this.tickMs >= timeoutMs) {
        const error = new Error(`timed out after ${Math.round(timeoutMs)}ms`)
        slot.controller?.abort(error)
        this.options.onTimeout(i, slot.gen, error)
      } else if (this.extend && (this.ticks - slot.extendTick) * this.tickMs >= leaseMs / 2) {
        slot.extendTick = this.ticks
        this.settle(lease.extend(leaseMs))
      }
    }
  }
}
