// Bounds on broker calls. A stalled network (bytes stop, nothing is refused, no error comes) must
// become an outage within the caller's --timeout, never a hang: every call of a bounded broker
// races a deadline, and close() gives a graceful goodbye a short while, then destroys the socket.
import type {Broker, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../contract.js'
import {ConnectionError} from '../../kernel/errors.js'

/** Resolves or rejects as `work` does, or rejects with `onTimeout()` after `ms`. */
export function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
    // unref: a finished command does not wait for a deadline nobody needs any more
    timer.unref()
  })
  work.catch(() => {}) // a late failure after the deadline is nobody's business
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

/** Runs `graceful` (QUIT, channel close, drain) for at most `ms`, then `force` (disconnect, destroy): never waits on a dead socket. */
export async function closeWithin(graceful: () => Promise<unknown>, ms: number, force: () => void): Promise<void> {
  try {
    await within(Promise.resolve().then(graceful), ms, () => new Error('close timed out'))
  } catch {
    // stalled or failed: the forceful close below is all that is left
  } finally {
    force()
  }
}

/** How long a graceful close may take: a short goodbye, never the full --timeout of a stalled call. */
export function closeGraceMs(timeoutMs: number): number {
  return Math.max(100, Math.min(timeoutMs, 1000))
}

/** Extra time listQueues gets over the per-call timeout: its own SCAN/listing budget runs inside it. */
const LISTING_BUDGET_MS = 5000
/** Bulk calls (purge, retry, delete) may be slow without being stalled: a larger bound, still a bound. */
const BULK_FACTOR = 3
/** Peeks of many messages: one more timeout per this many asked for. */
const PEEK_PER_TIMEOUT = 10_000

/** A bounded call in flight: when it must have answered (performance.now() ms), and how to fail it. */
interface PendingCall {
  readonly deadline: number
  readonly what: string
  readonly reject: (error: Error) => void
}

/**
 * The deadlines of one bounded broker's calls in flight, on one timer armed for the earliest:
 * a setTimeout, a Promise.race and a .finally per call cost more than a small broker call itself.
 */
export class Watchdog {
  private readonly pending = new Set<PendingCall>()
  private timer: NodeJS.Timeout | undefined
  private armedFor = Infinity

  /** `onStall` makes a late call's error; `onAnswer` hears of every call answered in time. */
  constructor(
    private readonly onStall: (what: string) => Error,
    private readonly onAnswer: () => void = () => {},
  ) {}

  /** Bounds `work` to `ms`: it resolves or rejects as `work` does, or rejects with `onStall(what)` past the deadline. */
  run<T>(what: string, work: () => Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall = {deadline: performance.now() + ms, what, reject}
      this.pending.add(call)
      if (call.deadline < this.armedFor) this.arm(call.deadline)
      let answer: Promise<T>
      try {
        answer = work()
      } catch (error) {
        answer = Promise.reject(error)
      }
      // a late answer after the deadline is nobody's business: only the first outcome counts
      answer.then(
        (value) => {
          if (!this.pending.delete(call)) return
          this.onAnswer()
          resolve(value)
        },
        (error: unknown) => {
          if (this.pending.delete(call)) reject(error)
        },
      )
    })
  }

  /** Calls in flight (for tests: none left behind). */
  get size(): number {
    return this.pending.size
  }

  private arm(at: number): void {
    clearTimeout(this.timer)
    this.armedFor = at
    this.timer = setTimeout(this.check, Math.max(0, at - performance.now()))
    // unref: a finished command does not wait for a deadline nobody needs any more
    this.timer.unref()
  }

  private readonly check = (): void => {
    this.timer = undefined
    this.armedFor = Infinity
    const now = performance.now()
    let next = Infinity
    for (const call of this.pending) {
      if (call.deadline <= now) {
        this.pending.delete(call)
        call.reject(this.onStall(call.what))
      } else if (call.deadline < next) next = call.deadline
    }
    if (next < Infinity) this.arm(next)
  }
}

/**
 * `inner` with a deadline on every call: a call that does not answer within `timeoutMs` rejects
 * with a ConnectionError (exit 3) naming the broker and the call. After one stalled call, the next
 * ones fail at once for `timeoutMs` (the network is down: cleanup must not wait again for each
 * step); then they are tried again, so a long-running screen recovers with the network. Leases
 * and subscriptions it hands out are bounded the same way.
 */
export function boundedBroker(inner: Broker, timeoutMs: number): Broker {
  let downUntil = 0
  let lastStall: ConnectionError | undefined
  const seconds = `${Math.round(timeoutMs / 100) / 10} s`
  const watchdog = new Watchdog((what) => {
    lastStall = new ConnectionError(
      `${inner.displayUrl} did not answer (${what}) within ${seconds}: the network or the broker stalled — check the network, or raise --timeout if it is only slow`,
      true,
    )
    downUntil = Date.now() + timeoutMs
    return lastStall
  }, () => (lastStall = undefined))
  function bound<T>(what: string, work: () => Promise<T>, ms = timeoutMs): Promise<T> {
    if (lastStall && Date.now() < downUntil) return Promise.reject(lastStall)
    return watchdog.run(what, work, ms)
  }
  const boundLease = (lease: Lease): Lease => new BoundLease(lease, bound)
  const boundSubscription = (sub: Subscription): Subscription => ({
    closed: sub.closed,
    ...(sub.resumes === undefined ? {} : {resumes: sub.resumes}),
    // a subscription blocked on a stalled read ends when the broker closes its socket
    close: () => within(sub.close(), closeGraceMs(timeoutMs), () => new Error('close timed out')).catch(() => {}),
  })
  return {
    transport: inner.transport,
    displayUrl: inner.displayUrl,
    connect: () => inner.connect(),
    listQueues: () => bound('list queues', () => inner.listQueues(), timeoutMs + LISTING_BUDGET_MS),
    stats: (q) => bound(`stats of "${q}"`, () => inner.stats(q)),
    peek: (q, o) => bound(`peek "${q}"`, () => inner.peek(q, o), timeoutMs * Math.max(1, Math.ceil(o.limit / PEEK_PER_TIMEOUT))),
    enqueue: (q, messages, o) => bound(`enqueue to "${q}"`, () => inner.enqueue(q, messages, o), timeoutMs * Math.max(1, Math.ceil(messages.length / 1000))),
    consume: async (q, handler: LeaseHandler, o) =>
      boundSubscription(await bound(`consume "${q}"`, () => inner.consume(q, (lease) => handler(boundLease(lease)), o))),
    purge: (q, s) => bound(`purge "${q}"`, () => inner.purge(q, s), timeoutMs * BULK_FACTOR),
    capabilitiesOf: (q) => bound('capabilities', () => inner.capabilitiesOf(q)),
    createQueue: (q, o) => bound(`create "${q}"`, () => inner.createQueue(q, o)),
    deleteQueue: (q) => bound(`delete "${q}"`, () => inner.deleteQueue(q), timeoutMs * BULK_FACTOR),
    retry: (q, o) => bound(`retry "${q}"`, () => inner.retry(q, o), timeoutMs * BULK_FACTOR),
    remove: (q, ids, s) => bound(`delete jobs of "${q}"`, () => inner.remove(q, ids, s), timeoutMs * Math.max(1, Math.ceil(ids.length / 100))),
    pause: (q) => bound(`pause "${q}"`, () => inner.pause(q)),
    resume: (q) => bound(`resume "${q}"`, () => inner.resume(q)),
    workers: (o) => bound('workers', () => inner.workers(o)),
    close: () => inner.close(),
  }
}

type Bound = <T>(what: string, work: () => Promise<T>) => Promise<T>

/** A lease whose settles are bounded; a class, so a delivery allocates one object, not four closures. */
class BoundLease implements Lease {
  readonly message: Message
  constructor(
    private readonly inner: Lease,
    private readonly bound: Bound,
  ) {
    this.message = inner.message
  }

  ack(): Promise<void> {
    return this.bound('ack', () => this.inner.ack())
  }

  nack(options?: NackOptions): Promise<void> {
    return this.bound('nack', () => this.inner.nack(options))
  }

  deadLetter(reason: string): Promise<void> {
    return this.bound('dead-letter', () => this.inner.deadLetter(reason))
  }

  extend(ms: number): Promise<void> {
    return this.bound('extend', () => this.inner.extend(ms))
  }
}
