// Pieces every subscription needs: the `closed` promise (resolved once), whether it `resumes`,
// a wake-up for loops waiting on room or a back-off, and an outage waited out within a budget.
import {OUTAGE_BACKOFF, backoffDelay} from '../../kernel/backoff.js'
import type {ConsumeOptions} from '../contract.js'

/** Subscription.closed and the one way to resolve it: the first end() wins (undefined: closed by us). */
export class ClosedSignal {
  readonly promise: Promise<Error | undefined>
  private resolve!: (error: Error | undefined) => void

  constructor() {
    this.promise = new Promise((resolve) => (this.resolve = resolve))
  }

  end(error: Error | undefined): void {
    this.resolve(error)
  }
}

/** Subscription.resumes: whether a lost connection is waited out rather than ending the subscription. */
export const resumes = (options: Pick<ConsumeOptions, 'reconnectMs'>): boolean => (options.reconnectMs ?? 0) > 0

/** Wakes the loops waiting on it (room freed, closing) before their timeout. */
export class Waker {
  private waiters: (() => void)[] = []

  /** Until wake(), or `ms` when given. */
  wait(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        const i = self.waiters.indexOf(done)
        if (i >= 0) self.waiters.splice(i, 1)
        resolve()
      }
      this.waiters.push(done)
    })
  }

  wake(): void {
    for (const done of this.waiters.splice(0)) done()
  }
}

/**
 * A lost connection being waited out for up to `budgetMs` from the first failure, backing off
 * with jitter (OUTAGE_BACKOFF) between tries; tells onConnection 'lost' and 'back'.
 */
export class Outage {
  private since: number | undefined
  private failures = 0
  private told = false

  constructor(
    readonly budgetMs: number,
    private readonly onConnection?: ConsumeOptions['onConnection'],
  ) {}

  /** Marks the start of an outage; false when one is already under way. */
  begin(): boolean {
    if (this.since !== undefined) return false
    this.since = Date.now()
    return true
  }

  /** Says 'lost' (once an outage). */
  lost(error: Error): void {
    if (this.told) return
    this.told = true
    this.onConnection?.('lost', error)
  }

  /** What is left of the budget (≤ 0: give up). */
  left(): number {
    return this.budgetMs - (Date.now() - (this.since ?? Date.now()))
  }

  /** The next back-off delay between tries. */
  nextDelay(): number {
    return backoffDelay(++this.failures, OUTAGE_BACKOFF)
  }

  /** The connection works again: ends an outage under way and says 'back'. */
  over(): void {
    if (this.since === undefined) return
    this.since = undefined
    this.failures = 0
    this.told = false
    this.onConnection?.('back')
  }
}

/** `promise`, or the error of `timedOut()` once `ms` has passed first. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
