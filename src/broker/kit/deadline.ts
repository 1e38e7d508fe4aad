// Bounds on broker calls. A stalled network (bytes stop, nothing is refused, no error comes) must
// become an outage within the caller's --timeout, never a hang: every call of a bounded broker
// races a deadline, and close() gives a graceful goodbye a short while, then destroys the socket.
import type {Broker, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../contract.js'
import {ConnectionError} from '../../kernel/errors.js'
import {LeaseWithoutExtend} from './guard.js'
import {SETTLED} from './lease.js'

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

/** A bounded call in flight: when it must have answered (performance.now() ms), how to end it; a link of the watchdog's list. */
class PendingCall<T> {
  prev: PendingCall<unknown> | undefined = undefined
  next: PendingCall<unknown> | undefined = undefined
  /** Still in the list: neither answered nor failed by the watchdog. */
  live = true
  resolve!: (value: T) => void
  reject!: (error: unknown) => void

  constructor(
    readonly deadline: number,
    readonly what: string,
  ) {}
}

/**
 * The deadlines of one bounded broker's calls in flight, on one timer armed for the earliest:
 * a setTimeout, a Promise.race and a .finally per call cost more than a small broker call itself.
 * Calls in flight are a doubly linked list through the calls themselves: adding and removing one
 * allocates nothing and hashes nothing (a Set did both at every ack).
 */
export class Watchdog {
  private head: PendingCall<unknown> | undefined
  private count = 0
  private timer: NodeJS.Timeout | undefined
  private armedFor = Infinity

  /** `onStall` makes a late call's error; `onAnswer` hears of every call answered in time. */
  constructor(
    private readonly onStall: (what: string) => Error,
    private readonly onAnswer: () => void = () => {},
  ) {}

  /** Bounds `work` to `ms`: it resolves or rejects as `work` does, or rejects with `onStall(what)` past the deadline. */
  run<T>(what: string, work: () => Promise<T>, ms: number): Promise<T> {
    let answer: Promise<T>
    try {
      answer = work()
    } catch (error) {
      answer = Promise.reject(error)
    }
    return this.watch(what, answer, ms)
  }

  /** Bounds an answer already under way to `ms` from now, as `run` does. */
  watch<T>(what: string, answer: Promise<T>, ms: number): Promise<T> {
    const call = new PendingCall<T>(performance.now() + ms, what)
    const result = new Promise<T>((resolve, reject) => {
      call.resolve = resolve
      call.reject = reject
    })
    this.add(call as PendingCall<unknown>)
    if (call.deadline < this.armedFor) this.arm(call.deadline)
    // a late answer after the deadline is nobody's business: only the first outcome counts
    answer.then(
      (value) => {
        if (!call.live) return
        this.remove(call as PendingCall<unknown>)
        this.onAnswer()
        call.resolve(value)
      },
      (error: unknown) => {
        if (!call.live) return
        this.remove(call as PendingCall<unknown>)
        call.reject(error)
      },
    )
    return result
  }

  /** Calls in flight (for tests: none left behind). */
  get size(): number {
    return this.count
  }

  private add(call: PendingCall<unknown>): void {
    call.next = this.head
    if (this.head) this.head.prev = call
    this.head = call
    this.count++
  }

  private remove(call: PendingCall<unknown>): void {
    call.live = false
    if (call.prev) call.prev.next = call.next
    else this.head = call.next
    if (call.next) call.next.prev = call.prev
    call.prev = call.next = undefined
    this.count--
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
    const late: PendingCall<unknown>[] = []
    for (let call = this.head; call; call = call.next) {
      if (call.deadline <= now) late.push(call)
      else if (call.deadline < next) next = call.deadline
    }
    // failed after the walk: a rejection's handlers run later, but onStall is ours and runs now
    for (const call of late) {
      this.remove(call)
      call.reject(this.onStall(call.what))
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
  const bounds = new Bounds(inner.displayUrl, timeoutMs)
  const bound = <T>(what: string, work: () => Promise<T>, ms = timeoutMs): Promise<T> => bounds.bound(what, work, ms)
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
      boundSubscription(await bound(`consume "${q}"`, () => inner.consume(q, (lease) => handler(new BoundLease(lease, bounds)), o))),
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

/** One bounded broker's deadlines: its watchdog, and the stall that fails calls at once while the network is down. */
class Bounds {
  private downUntil = 0
  private lastStall: ConnectionError | undefined
  private readonly watchdog: Watchdog

  constructor(
    displayUrl: string,
    private readonly timeoutMs: number,
  ) {
    const seconds = `${Math.round(timeoutMs / 100) / 10} s`
    this.watchdog = new Watchdog((what) => {
      this.lastStall = new ConnectionError(
        `${displayUrl} did not answer (${what}) within ${seconds}: the network or the broker stalled — check the network, or raise --timeout if it is only slow`,
        true,
      )
      this.downUntil = Date.now() + timeoutMs
      return this.lastStall
    }, () => (this.lastStall = undefined))
  }

  /** The stall every call fails with at once while the network is down; else undefined. */
  stalled(): ConnectionError | undefined {
    return this.lastStall !== undefined && Date.now() < this.downUntil ? this.lastStall : undefined
  }

  bound<T>(what: string, work: () => Promise<T>, ms: number): Promise<T> {
    const stall = this.stalled()
    if (stall) return Promise.reject(stall)
    return this.watchdog.run(what, work, ms)
  }

  /** A settle's answer, bounded; SETTLED (done when it returned: nothing to wait for) passes through as it is. */
  answer(what: string, answer: Promise<void>): Promise<void> {
    if (answer !== SETTLED) return this.watchdog.watch(what, answer, this.timeoutMs)
    this.lastStall = undefined // answered in time, as a watched call that resolves
    return answer
  }
}

const enum Settle {
  Ack,
  Nack,
  DeadLetter,
  Extend,
}
const SETTLE_NAMES = ['ack', 'nack', 'dead-letter', 'extend']

/**
 * A lease whose settles are bounded; a class, so a delivery allocates one object, not four
 * closures. It takes the place of the guard's lease without extend (one wrapper, not two): its
 * extend refuses with the queue's advice as the guard's does.
 */
class BoundLease implements Lease {
  readonly message: Message
  private readonly inner: Lease
  private readonly noExtend: LeaseWithoutExtend | undefined

  constructor(
    lease: Lease,
    private readonly bounds: Bounds,
  ) {
    this.message = lease.message
    if (lease instanceof LeaseWithoutExtend) {
      this.inner = lease.inner
      this.noExtend = lease
    } else {
      this.inner = lease
      this.noExtend = undefined
    }
  }

  ack(): Promise<void> {
    return this.settle(Settle.Ack, undefined)
  }

  nack(options?: NackOptions): Promise<void> {
    return this.settle(Settle.Nack, options)
  }

  deadLetter(reason: string): Promise<void> {
    return this.settle(Settle.DeadLetter, reason)
  }

  extend(ms: number): Promise<void> {
    return this.settle(Settle.Extend, ms)
  }

  /** Fails at once while the network is down; else asks the lease and bounds its answer. */
  private settle(op: Settle, arg: unknown): Promise<void> {
    const stall = this.bounds.stalled()
    if (stall) return Promise.reject(stall)
    let answer: Promise<void>
    try {
      if (op === Settle.Ack) answer = this.inner.ack()
      else if (op === Settle.Nack) answer = this.inner.nack(arg as NackOptions | undefined)
      else if (op === Settle.DeadLetter) answer = this.inner.deadLetter(arg as string)
      else answer = this.noExtend ? this.noExtend.extend() : this.inner.extend(arg as number)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.bounds.answer(SETTLE_NAMES[op]!, answer)
  }
}
