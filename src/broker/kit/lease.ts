// A lease settles exactly once: the first of ack, nack or deadLetter claims it; later calls, and
// extend once it is claimed, do nothing. Adapters supply how the broker settles one message.
import type {Lease, Message, NackOptions} from '../contract.js'
import {refuse} from '../capabilities.js'

/** How the broker settles one message; the lease calls one of ack/nack/deadLetter at most once. */
export interface SettleOps {
  ack(): Promise<void>
  nack(options?: NackOptions): Promise<void>
  deadLetter(reason: string): Promise<void>
  /** Keeps the lease longer; left out where the queue cannot (capabilities.extend false): the guard refuses. */
  extend?(ms: number): Promise<void>
}

/**
 * What a settle returns when it is done by the time it returns (an ack written to the socket, or
 * marked for the next commit, with no answer to wait for): one shared, already-resolved promise.
 * A bounded broker hands it straight back (there is nothing to bound) and the worker's keeper does
 * not track it: no timer entry, promise or closure per message.
 */
export const SETTLED: Promise<void> = Promise.resolve()

/** The guard itself: a class, so that a lease written as one (the memory adapter's) needs no extra object. */
export class SettleOnce {
  private done = false

  /** True for the first caller only. */
  protected claim(): boolean {
    if (this.done) return false
    this.done = true
    return true
  }

  /** Undoes a claim whose settle failed while the message is still ours: it may be settled again. */
  protected unclaim(): void {
    this.done = false
  }

  get settled(): boolean {
    return this.done
  }
}

export interface SettleHooks {
  /** The first settle call begins (before the broker is asked): its prefetch slot is free. */
  claimed?(): void
  /** That call ended, done or failed. */
  finished?(): void
  /**
   * Given: a failed settle leaves the message ours (SQS: no DLQ, lease gone), so the claim is undone
   * (this runs, to undo `claimed`) and the caller may nack or retry. Not given: a failed settle still counts.
   */
  unclaimed?(): void
}

class OnceLease extends SettleOnce implements Lease {
  constructor(
    readonly message: Message,
    private readonly ops: SettleOps,
    private readonly hooks: SettleHooks,
  ) {
    super()
  }

  async extend(ms: number): Promise<void> {
    if (this.settled) return
    if (!this.ops.extend) throw refuse('extend', `queue "${this.message.queue}"`, {})
    await this.ops.extend(ms)
  }

  ack(): Promise<void> {
    return this.settle(() => this.ops.ack())
  }

  nack(options?: NackOptions): Promise<void> {
    return this.settle(() => this.ops.nack(options))
  }

  deadLetter(reason: string): Promise<void> {
    return this.settle(() => this.ops.deadLetter(reason))
  }

  private settle(how: () => Promise<void>): Promise<void> {
    if (!this.claim()) return SETTLED
    this.hooks.claimed?.()
    let answer: Promise<void>
    try {
      answer = how()
    } catch (error) {
      answer = Promise.reject(error)
    }
    // done when it returned (an ack written, nothing to wait for): no promise of our own
    if (answer !== SETTLED) return this.outcome(answer)
    this.hooks.finished?.()
    return SETTLED
  }

  private async outcome(answer: Promise<void>): Promise<void> {
    try {
      await answer
    } catch (error) {
      if (this.hooks.unclaimed) {
        this.unclaim()
        this.hooks.unclaimed()
      }
      throw error
    } finally {
      this.hooks.finished?.()
    }
  }
}

/** A lease over `ops` that settles once; `extend` does nothing once it is settled. */
export function onceLease(message: Message, ops: SettleOps, hooks: SettleHooks = {}): Lease {
  return new OnceLease(message, ops, hooks)
}
