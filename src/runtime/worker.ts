// The embedded worker runtime: consumes a queue of any Broker through the contract and runs a
// handler on each delivery with bounded concurrency. Lifecycle follows BullMQ's Worker: start(),
// close() is idempotent and waits for running jobs, close(true) forces (running leases go back).
// Ack-late by default (at-least-once); `ack: 'early'` acks before the handler runs (at-most-once:
// a failure is reported, never retried). Failures retry with exponential backoff and jitter until
// `maxAttempts` deliveries; then `onExhausted` decides, and nothing is dropped unless asked: by
// default the message is dead-lettered where the queue has a dead-letter route, and elsewhere put
// back on the queue while the worker stops (like Sidekiq's morgue or BullMQ's failed set, a job
// that ran out of attempts stays somewhere a person can see it). A subscription lost to a broker
// outage is resumed (by the adapter, or by subscribing again) for up to `reconnectTimeoutMs`; a
// permanent refusal (queue deleted, credentials refused) or a longer outage ends the worker with
// the error.
import type {Broker, Capabilities, Lease, Message, Subscription} from '../broker/contract.js'
import {isTransient} from '../kernel/errors.js'
import {backoffDelay, DEFAULT_BACKOFF, type BackoffOptions} from '../kernel/backoff.js'
import {withBody} from './body.js'
import {WorkerEmitter, type DeadOutcome, type WorkerSummary} from './events.js'
import {Fifo} from './fifo.js'
import {capabilitiesFor} from '../broker/kit/guard.js'

export interface Job {
  readonly message: Message
  /** This delivery's number: 1 on the first. */
  readonly attempt: number
  /** Aborted when the job times out or the worker is force-closed. */
  readonly signal: AbortSignal
}

export type JobHandler = (job: Job) => unknown

export interface WorkerOptions {
  /** Handlers running at once. Default 1. */
  concurrency?: number
  /** Leases the broker may hand us ahead of free handlers. Default: concurrency. */
  prefetch?: number
  ack?: 'late' | 'early'
  /** Deliveries before a failing message is dead-lettered. Default 3. */
  maxAttempts?: number
  backoff?: BackoffOptions
  /** Per-job timeout in ms: the job's signal aborts and the delivery counts as failed. */
  timeoutMs?: number
  /** Lease length asked of the broker; running jobs get it extended where the broker can. Default 30 s. */
  leaseMs?: number
  /** Stop (gracefully) after this many jobs have finished. */
  maxJobs?: number
  /** Stop once idle this long (ms) and the broker reports nothing waiting or delayed. */
  untilEmptyIdleMs?: number
  /** How long a broker outage may last before the worker gives up with the error. Default 60 s; 0: at once. */
  reconnectTimeoutMs?: number
  /** What to do with a message that failed `maxAttempts` times. Default: see ExhaustedPolicy. */
  onExhausted?: ExhaustedPolicy
}

/** Waits between subscribe attempts during an outage: 250 ms doubling to 5 s, half of it random. */
const RESUBSCRIBE_BACKOFF: BackoffOptions = {initialMs: 250, maxMs: 5000, factor: 2, jitter: 0.5}
export const DEFAULT_RECONNECT_TIMEOUT_MS = 60_000

/**
 * What happens to a message out of attempts:
 * - 'dead-letter': to the queue's dead state / dead-letter queue (needs `capabilities.deadLetter`);
 * - 'requeue': back on the queue for another round, after the longest backoff where the broker can delay;
 * - 'drop': acked, so it is gone (reported as dropped);
 * - 'stop': back on the queue, and the worker stops (summary reason 'exhausted').
 * Unset: 'dead-letter' where the queue has a dead-letter route, else 'stop'.
 */
export type ExhaustedPolicy = 'dead-letter' | 'requeue' | 'drop' | 'stop'
export const EXHAUSTED_POLICIES: readonly ExhaustedPolicy[] = ['dead-letter', 'requeue', 'drop', 'stop']

/** One running job: reused slots keep the hot path free of Set/Map churn. */
interface Slot {
  lease: Lease | undefined
  job: Job | undefined
  startedAt: number
  /** Ticker counts (not clock reads) for timeouts and lease extension: cheaper per job. */
  startTick: number
  extendTick: number
  controller: AbortController | undefined
  /** Bumped each time the slot is freed, so a late handler result cannot settle a newer job. */
  gen: number
}

const now = () => performance.now()

export class Worker extends WorkerEmitter {
  readonly concurrency: number
  private readonly prefetch: number
  private readonly ackEarly: boolean
  private readonly maxAttempts: number
  private readonly backoff: BackoffOptions
  private readonly timeoutMs: number
  private readonly leaseMs: number
  private readonly maxJobs: number
  private readonly untilEmptyIdleMs: number
  private readonly reconnectTimeoutMs: number
  /** Wakes a resubscribe back-off early (close()). */
  private wakeResubscribe: (() => void) | undefined
  /** When the current broker outage began. */
  private outageSince: number | undefined
  /** Settles failed on a lost connection since the last reconnect: only the first is reported. */
  private settleFailuresThisOutage = 0
  private readonly onExhausted: ExhaustedPolicy | undefined
  private readonly buffer = new Fifo<Lease>()
  private readonly slots: Slot[] = []
  private readonly free: number[] = []
  private readonly stopAll = new AbortController()
  private subscription: Subscription | undefined
  private state: 'new' | 'running' | 'closing' | 'closed' = 'new'
  private closing: Promise<WorkerSummary> | undefined
  private reason: WorkerSummary['reason'] = 'closed'
  private ticker: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private timed = false
  private caps!: Capabilities
  private hasStarted = false
  private hasRetrying = false
  private hasDead = false
  private hasDrained = false
  private ticks = 0
  private tickMs = 1000
  private idle = true
  private running = 0
  private settling = 0
  private settled: (() => void) | undefined
  private knownSettled: Promise<void> | undefined
  private startedAtMs = 0
  private deliveries = 0
  readonly counts = {started: 0, completed: 0, failed: 0, retried: 0, dead: 0, dropped: 0, kept: 0, returned: 0, finished: 0}
  /** Resolves with the summary once the worker has closed, whoever closed it. */
  readonly finished: Promise<WorkerSummary>
  private resolveFinished!: (summary: WorkerSummary) => void

  constructor(
    readonly broker: Broker,
    readonly queue: string,
    private readonly handler: JobHandler,
    options: WorkerOptions = {},
  ) {
    super()
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1))
    this.prefetch = Math.max(this.concurrency, Math.floor(options.prefetch ?? this.concurrency))
    this.ackEarly = options.ack === 'early'
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3)
    this.backoff = options.backoff ?? DEFAULT_BACKOFF
    this.timeoutMs = options.timeoutMs ?? 0
    this.leaseMs = options.leaseMs ?? 30_000
    this.maxJobs = options.maxJobs ?? 0
    this.untilEmptyIdleMs = options.untilEmptyIdleMs ?? 0
    this.reconnectTimeoutMs = Math.max(0, options.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS)
    this.onExhausted = options.onExhausted
    for (let i = this.concurrency - 1; i >= 0; i--) {
      this.slots[i] = {lease: undefined, job: undefined, startedAt: 0, startTick: 0, extendTick: 0, controller: undefined, gen: 0}
      this.free.push(i)
    }
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve))
    this.onListenersChanged()
  }

  get runningJobs(): number {
    return this.running
  }

  get bufferedLeases(): number {
    return this.buffer.length
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'running'
    this.startedAtMs = now()
    // per-queue capabilities where they differ by queue (Redis list vs BullMQ on one server); a
    // queue not made yet gets what a new queue gets
    this.caps = await capabilitiesFor(this.broker, this.queue)
    this.watch(await this.subscribe())
    this.tickMs = Math.max(5, Math.min(this.timeoutMs > 0 ? this.timeoutMs / 10 : Infinity, this.leaseMs / 4, 1000))
    this.ticker = setInterval(() => this.onTick(), this.tickMs)
    this.ticker.unref()
    this.armIdleCheck()
  }

  private readonly onConnection = (state: 'lost' | 'back', error?: Error): void => {
    if (state === 'lost') {
      this.outageSince ??= now()
      this.emit('reconnecting', {error: error ?? new Error('lost the connection')})
    } else if (this.outageSince !== undefined) {
      this.emit('reconnected', {downMs: now() - this.outageSince})
      this.outageSince = undefined
      this.settleFailuresThisOutage = 0
    }
  }

  private async subscribe(): Promise<Subscription> {
    const options = {prefetch: this.prefetch, leaseMs: this.leaseMs, reconnectMs: this.reconnectTimeoutMs, onConnection: this.onConnection}
    const subscription = await this.broker.consume(this.queue, this.onLease, options)
    this.subscription = subscription
    if (this.state !== 'running') await subscription.close()
    return subscription
  }

  /** When the subscription ends by itself: subscribe again through a passing outage, else stop with the error. */
  private watch(subscription: Subscription): void {
    void subscription.closed.then(async (lost) => {
      if (!lost || this.state !== 'running' || subscription !== this.subscription) return
      const since = now()
      let error: Error = lost
      // a subscription that resumes by itself has already waited reconnectTimeoutMs
      for (let attempt = 1; this.state === 'running' && !subscription.resumes; attempt++) {
        if (!isTransient(error) || now() - since >= this.reconnectTimeoutMs) break
        const delayMs = Math.min(backoffDelay(attempt, RESUBSCRIBE_BACKOFF), Math.max(0, this.reconnectTimeoutMs - (now() - since)))
        if (attempt === 1) this.onConnection('lost', error)
        await new Promise<void>((resolve) => {
          this.wakeResubscribe = resolve
          setTimeout(resolve, delayMs)
        })
        this.wakeResubscribe = undefined
        if (this.state !== 'running') return
        try {
          const next = await this.subscribe()
          this.onConnection('back')
          this.watch(next)
          return
        } catch (thrown) {
          error = thrown instanceof Error ? thrown : new Error(String(thrown))
        }
      }
      if (this.state !== 'running') return
      this.emit('error', {error})
      this.reason = 'error'
      void this.close()
    })
  }

  /** Graceful: stop fetching, hand back unstarted leases, wait for running jobs. Force: hand back running ones too. */
  close(force = false): Promise<WorkerSummary> {
    if (force) this.forceStop()
    this.closing ??= this.shutdown()
    return this.closing
  }

  protected override onListenersChanged(): void {
    this.timed = this.has('completed') || this.has('failed')
    this.hasStarted = this.has('started')
    this.hasRetrying = this.has('retrying')
    this.hasDead = this.has('dead')
    this.hasDrained = this.has('drained')
  }

  private readonly onLease = (lease: Lease): void => {
    this.deliveries++
    if (this.state !== 'running') {
      this.settle(lease.nack())
      return
    }
    if (this.free.length > 0 && this.mayStart()) this.run(lease)
    else this.buffer.push(lease)
  }

  private mayStart(): boolean {
    return this.maxJobs === 0 || this.counts.started < this.maxJobs
  }

  private run(lease: Lease): void {
    const index = this.free.pop()!
    const slot = this.slots[index]!
    const message = withBody(lease.message)
    const attempt = message.attempts > 0 ? message.attempts : 1
    const controller = this.timeoutMs > 0 ? new AbortController() : undefined
    const job: Job = {message, attempt, signal: controller ? controller.signal : this.stopAll.signal}
    slot.lease = lease
    slot.job = job
    slot.controller = controller
    slot.startedAt = this.timed ? now() : 0
    slot.startTick = slot.extendTick = this.ticks
    const gen = slot.gen
    this.running++
    this.idle = false
    this.counts.started++
    if (this.ackEarly) this.settle(lease.ack())
    if (this.hasStarted) this.emit('started', {message, attempt})
    let result: unknown
    try {
      result = this.handler(job)
    } catch (error) {
      this.fail(index, gen, error)
      return
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      ;(result as PromiseLike<unknown>).then(
        (value) => this.succeed(index, gen, value),
        (error) => this.fail(index, gen, error),
      )
    } else this.succeed(index, gen, result)
  }

  private succeed(index: number, gen: number, result: unknown): void {
    const slot = this.slots[index]!
    if (slot.gen !== gen) return
    const lease = slot.lease!
    const job = slot.job!
    const startedAt = slot.startedAt
    this.freeSlot(index)
    this.counts.completed++
    if (!this.ackEarly) this.settle(lease.ack())
    if (this.timed) this.emit('completed', {message: job.message, attempt: job.attempt, durationMs: now() - startedAt, result})
    this.finishedOne()
  }

  private fail(index: number, gen: number, thrown: unknown): void {
    const slot = this.slots[index]!
    if (slot.gen !== gen) return
    const lease = slot.lease!
    const {message, attempt} = slot.job!
    const startedAt = slot.startedAt
    this.freeSlot(index)
    const error = thrown instanceof Error ? thrown : new Error(String(thrown))
    this.counts.failed++
    if (this.timed) this.emit('failed', {message, attempt, durationMs: now() - startedAt, error})
    if (!this.ackEarly) {
      if (attempt >= this.maxAttempts) this.exhausted(lease, message, attempt, error)
      else {
        this.counts.retried++
        const delayMs = this.requeue(lease, backoffDelay(attempt, this.backoff))
        if (this.hasRetrying) this.emit('retrying', {message, attempt, delayMs})
      }
    }
    this.finishedOne()
  }

  /** Puts a failed message back, after `backoffMs` where the broker can delay; returns the delay used. */
  private requeue(lease: Lease, backoffMs: number): number {
    const delay = this.caps.delay
    const delayMs = delay ? Math.min(backoffMs, delay.maxMs) : 0
    this.settle(lease.nack(delayMs > 0 ? {delayMs, failed: true} : {failed: true}))
    return delayMs
  }

  /** Out of attempts: dead-letter, requeue, drop or stop, as `onExhausted` says. Never a silent drop. */
  private exhausted(lease: Lease, message: Message, attempt: number, error: Error): void {
    const reason = `failed ${attempt} time${attempt === 1 ? '' : 's'}, last: ${error.message}`.slice(0, 500)
    const policy = this.onExhausted ?? (this.caps.deadLetter ? 'dead-letter' : 'stop')
    let outcome: DeadOutcome
    if (policy === 'dead-letter' && this.caps.deadLetter) {
      outcome = 'dead-lettered'
      this.counts.dead++
      this.settle(lease.deadLetter(reason))
    } else if (policy === 'drop') {
      outcome = 'dropped'
      this.counts.dropped++
      this.settle(lease.ack())
    } else if (policy === 'requeue') {
      outcome = 'requeued'
      this.counts.kept++
      this.requeue(lease, this.backoff.maxMs)
    } else {
      // 'stop', or 'dead-letter' on a queue that has no dead-letter route: keep it, stop working
      outcome = 'kept'
      this.counts.kept++
      this.settle(lease.nack({failed: true}))
      if (this.state === 'running') {
        this.reason = 'exhausted'
        void this.close()
      }
    }
    if (this.hasDead) this.emit('dead', {message, attempt, reason, deadLettered: outcome === 'dead-lettered', outcome})
  }

  private freeSlot(index: number): void {
    const slot = this.slots[index]!
    slot.gen++
    slot.lease = undefined
    slot.job = undefined
    slot.controller = undefined
    this.free.push(index)
    this.running--
  }

  /** After a job ends: start buffered work, notice --max-jobs and idleness. */
  private finishedOne(): void {
    this.counts.finished++
    if (this.maxJobs > 0 && this.counts.finished >= this.maxJobs && this.state === 'running') {
      this.reason = 'max-jobs'
      void this.close()
    }
    while (this.free.length > 0 && this.buffer.length > 0 && this.state === 'running' && this.mayStart()) {
      this.run(this.buffer.shift()!)
    }
    if (this.running === 0 && this.buffer.length === 0 && !this.idle) {
      this.idle = true
      if (this.hasDrained) this.emit('drained', {})
      this.armIdleCheck()
    }
    if (this.running === 0 && this.settling === 0) this.settled?.()
  }

  /** Tracks broker settle calls so close() waits for the last ack to land. */
  private settle(promise: Promise<void>): void {
    // an adapter that returns one shared, already-settled promise (memory) needs no tracking
    if (promise === this.knownSettled) return
    this.settling++
    promise.then(() => {
      this.knownSettled = promise
      this.settleFailuresThisOutage = 0
      this.onSettled()
    }, this.onSettleError)
  }

  private readonly onSettled = (): void => {
    if (--this.settling === 0 && this.running === 0) this.settled?.()
  }

  private readonly onSettleError = (error: unknown): void => {
    // a broker outage fails every settle in flight at once: say it once per outage, not once per
    // message (those messages come back when their leases expire)
    if (isTransient(error) && this.settleFailuresThisOutage++ > 0) {
      this.onSettled()
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    const e = isTransient(error) ? new Error(`${message} — settling fails until the broker is back; those messages are redelivered when their leases expire`) : error instanceof Error ? error : new Error(message)
    this.emit('error', {error: e})
    this.onSettled()
  }

  /** Timeouts and lease extension for every running job, from one interval instead of a timer per job. */
  private onTick(): void {
    this.ticks++
    if (this.running === 0) return
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i]!
      const lease = slot.lease
      if (!lease) continue
      // a job is at least (ticks - startTick - 1) whole ticks old; never time out early
      if (this.timeoutMs > 0 && (this.ticks - slot.startTick - 1) * this.tickMs >= this.timeoutMs) {
        const error = new Error(`timed out after ${Math.round(this.timeoutMs)}ms`)
        slot.controller?.abort(error)
        this.fail(i, slot.gen, error)
      } else if (this.caps.extend && (this.ticks - slot.extendTick) * this.tickMs >= this.leaseMs / 2) {
        slot.extendTick = this.ticks
        this.settle(lease.extend(this.leaseMs))
      }
    }
  }

  /** --until-empty: once idle for a while, ask the broker whether anything is left. */
  private armIdleCheck(): void {
    if (this.untilEmptyIdleMs <= 0 || this.state !== 'running' || this.idleTimer) return
    const seen = this.deliveries
    this.idleTimer = setTimeout(async () => {
      this.idleTimer = undefined
      if (!this.idle || this.deliveries !== seen || this.state !== 'running') return this.armIdleCheck()
      const counts = await this.broker.stats(this.queue).then((s) => s.counts, () => undefined)
      // this worker is idle, so anything in flight is leased by another consumer (perhaps a dead
      // one whose leases will expire and come back): not empty yet. No answer (the broker is
      // away) is not empty either.
      const left = counts ? (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.retry ?? 0) + (counts.inflight ?? 0) : 1
      if (left === 0 && this.idle && this.deliveries === seen && this.state === 'running') {
        this.reason = 'empty'
        void this.close()
      } else this.armIdleCheck()
    }, this.untilEmptyIdleMs)
  }

  private forceStop(): void {
    if (this.state === 'closed') return
    this.reason = 'forced'
    this.state = 'closing'
    this.stopAll.abort(new Error('worker force-closed'))
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i]!
      if (!slot.lease) continue
      const lease = slot.lease
      slot.controller?.abort(new Error('worker force-closed'))
      this.freeSlot(i)
      this.counts.returned++
      if (!this.ackEarly) this.settle(lease.nack())
    }
    this.returnBuffered()
  }

  private returnBuffered(): void {
    for (let lease = this.buffer.shift(); lease; lease = this.buffer.shift()) {
      this.counts.returned++
      this.settle(lease.nack())
    }
  }

  private async shutdown(): Promise<WorkerSummary> {
    if (this.state === 'new') this.state = 'closing'
    if (this.state === 'running') this.state = 'closing'
    clearTimeout(this.idleTimer)
    this.wakeResubscribe?.()
    await this.subscription?.close().catch((error) => this.emit('error', {error}))
    this.returnBuffered()
    if (this.running > 0 || this.settling > 0) await new Promise<void>((resolve) => (this.settled = resolve))
    clearInterval(this.ticker)
    this.state = 'closed'
    const c = this.counts
    const summary: WorkerSummary = {
      started: c.started,
      completed: c.completed,
      failed: c.failed,
      retried: c.retried,
      dead: c.dead,
      dropped: c.dropped,
      kept: c.kept,
      returned: c.returned,
      elapsedMs: this.startedAtMs ? now() - this.startedAtMs : 0,
      reason: this.reason,
    }
    this.emit('closed', {summary})
    this.resolveFinished(summary)
    return summary
  }
}
