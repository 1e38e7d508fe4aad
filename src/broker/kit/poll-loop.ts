// A consume loop for brokers that are polled: fetch up to `prefetch - outstanding` leases, hand
// them out, back off while the queue is empty, run periodic upkeep (expired-lease recovery), stop
// on close. A lost connection is waited out (the client reconnects in the background) for up to
// `reconnectMs`, backing off with jitter; leases handed out before it stay valid: settled once the
// broker is back, or redelivered when they expire. Adapters supply `fetch` and how to settle one item.
import {sleep} from '../../kernel/backoff.js'
import type {ConsumeOptions, LeaseHandler, Message, Subscription} from '../contract.js'
import {onceLease, type SettleOps} from './lease.js'
import {ClosedSignal, Outage, Waker, resumes} from './subscription.js'

export interface PollLoopSpec {
  prefetch: number
  handler: LeaseHandler
  /** Leases up to `n` items; [] when there is nothing now. */
  fetch(n: number): Promise<{message: Message; ops: SettleOps}[]>
  /** Periodic upkeep (requeue expired leases…), run about every `upkeepMs`. */
  upkeep?(): Promise<void>
  upkeepMs?: number
  /** Longest sleep between polls of an empty queue. */
  maxIdleMs?: number
  /** Turns a failure into the error `closed` resolves with. */
  describeError(error: unknown): Error
  /** A failure that is the connection being away (waited out), not a refusal (ends the loop). */
  isConnectionFailure(error: unknown): boolean
  /** Releases what the loop held (a blocking connection, a library worker), once. */
  dispose?(): Promise<void>
  /** Cuts short a fetch waiting in the broker (a blocking read), so close() need not wait it out. */
  interrupt?(): void
  /** How long to keep retrying while the connection is lost before ending with the error (0: end at once). */
  reconnectMs?: number
  onConnection?: ConsumeOptions['onConnection']
  /** Leases the adapter is bringing in itself (a completion that also takes the next job), counted against the prefetch. */
  coming?(): number
  /**
   * Called once at start: `deliver` hands out a lease the adapter got outside `fetch` (the next job
   * a completion took), straight to the handler without a poll round; `wake` has the loop look
   * again (a completion came back without one, so its slot is free for `fetch`).
   */
  attach?(loop: {deliver(item: {message: Message; ops: SettleOps}): void; wake(): void}): void
}

class PollLoop {
  readonly closed = new ClosedSignal()
  readonly running: Promise<void>
  private open = true
  private outstanding = 0
  private readonly waker = new Waker()
  private readonly prefetch: number
  private readonly outage: Outage
  private disposed: Promise<void> | undefined
  private idle = 1
  private lastUpkeep = 0

  constructor(private readonly spec: PollLoopSpec) {
    this.prefetch = Math.max(1, spec.prefetch)
    this.outage = new Outage(spec.reconnectMs ?? 0, spec.onConnection)
    spec.attach?.({deliver: (item) => void this.deliver(item), wake: () => this.waker.wake()})
    this.running = this.run()
  }

  async close(): Promise<void> {
    if (!this.open) {
      await this.running
      return
    }
    this.open = false
    this.waker.wake()
    this.spec.interrupt?.()
    await this.running
    await this.dispose()
    this.closed.end(undefined)
  }

  private dispose(): Promise<void> {
    return (this.disposed ??= (this.spec.dispose?.() ?? Promise.resolve()).catch(() => {}))
  }

  private async run(): Promise<void> {
    while (this.open) {
      try {
        await this.step()
      } catch (error) {
        if (!this.open) break
        if (await this.rideOut(error)) continue
        this.open = false
        await this.dispose()
        this.closed.end(this.spec.describeError(error))
        return
      }
    }
  }

  /** One round: upkeep when due, then fetch into the free room and hand the leases out. */
  private async step(): Promise<void> {
    const spec = this.spec
    if (spec.upkeep && Date.now() - this.lastUpkeep >= (spec.upkeepMs ?? 1000)) {
      this.lastUpkeep = Date.now()
      await spec.upkeep()
    }
    const room = this.prefetch - this.outstanding - (spec.coming?.() ?? 0)
    if (room <= 0) {
      await this.waker.wait(Math.min(spec.upkeepMs ?? 1000, 1000))
      return
    }
    const got = await spec.fetch(room)
    this.outage.over()
    if (got.length === 0) {
      await sleep(this.idle)
      this.idle = Math.min(spec.maxIdleMs ?? 100, this.idle * 2)
      return
    }
    this.idle = 1
    for (const item of got) {
      const back = this.deliver(item)
      if (back) await back
    }
  }

  /** One lease to the handler (or, fetched while closing, straight back rather than stranded). */
  private deliver({message, ops}: {message: Message; ops: SettleOps}): Promise<void> | undefined {
    this.outstanding++
    const lease = onceLease(message, ops, {claimed: () => this.freed()})
    if (!this.open) return lease.nack().catch(() => {})
    this.spec.handler(lease)
    return undefined
  }

  private freed(): void {
    this.outstanding--
    this.waker.wake()
  }

  /** True: the connection is away and the budget lasts, so wait (interruptibly, so close() stays prompt) and try again. */
  private async rideOut(error: unknown): Promise<boolean> {
    const spec = this.spec
    const lost = spec.isConnectionFailure(error)
    if (this.outage.begin() && lost && this.outage.budgetMs > 0) this.outage.lost(spec.describeError(error))
    if (!lost || this.outage.left() <= 0) return false
    await this.waker.wait(this.outage.nextDelay())
    return true
  }
}

export function startPollLoop(spec: PollLoopSpec): Subscription {
  const loop = new PollLoop(spec)
  return {closed: loop.closed.promise, resumes: resumes(spec), close: () => loop.close()}
}
