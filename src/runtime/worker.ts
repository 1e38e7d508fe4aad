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
import type {Broker, Capabilities, Lease, Message} from '../broker/contract.js'
import {backoffDelay, DEFAULT_BACKOFF, type BackoffOptions} from '../kernel/backoff.js'
import {withBody} from './body.js'
import {WorkerEmitter, type DeadOutcome, type WorkerSummary} from './events.js'
import {LeaseKeeper} from './lease-keeper.js'
import {Resubscriber} from './resubscriber.js'
import {SlotPool} from './slots.js'
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

const now = () => performance.now()
/** --until-empty: how often to ask again while the broker still reports messages (leased by another consumer, say). */
const UNTIL_EMPTY_RECHECK_MS = 250

export class Worker extends WorkerEmitter {
  readonly concurrency: number
  private readonly ackEarly: boolean
  private readonly maxAttempts: number
  private readonly backoff: BackoffOptions
  private readonly timeoutMs: number
  private readonly maxJobs: number
  private readonly untilEmptyIdleMs: number
  private readonly onExhausted: ExhaustedPolicy | undefined
  private readonly pool: SlotPool
  private readonly keeper: LeaseKeeper
  private readonly subscriber: Resubscriber
  private readonly stopAll = new AbortController()
  /** stopAll's signal, read once: its getter showed in profiles at one read a job. */
  private readonly stopSignal = this.stopAll.signal
  private state: 'new' | 'running' | 'closing' | 'closed' = 'new'
  private closing: Promise<WorkerSummary> | undefined
  private reason: WorkerSummary['reason'] = 'closed'
  private idleTimer: NodeJS.Timeout | undefined
  /** A --until-empty stats call is under way: no second one beside it. */
  private checkingEmpty = false
  private caps!: Capabilities
  /** Which events have listeners: the hot path emits only those. */
  private listening = {timed: false, started: false, retrying: false, dead: false, drained: false}
  private idle = true
  private settled: (() => void) | undefined
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
    this.ackEarly = options.ack === 'early'
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3)
    this.backoff = options.backoff ?? DEFAULT_BACKOFF
    this.timeoutMs = options.timeoutMs ?? 0
    this.maxJobs = options.maxJobs ?? 0
    this.untilEmptyIdleMs = options.untilEmptyIdleMs ?? 0
    this.onExhausted = options.onExhausted
    const leaseMs = options.leaseMs ?? 30_000
    this.pool = new SlotPool(this.concurrency)
    this.keeper = new LeaseKeeper(this.pool, {
      leaseMs,
      timeoutMs: this.timeoutMs,
      onTimeout: (index, gen, error) => this.fail(index, gen, error),
      onError: (error) => this.emit('error', {error}),
      onSettled: () => this.pool.running === 0 && this.settled?.(),
    })
    this.subscriber = new Resubscriber({
      broker, queue, leaseMs,
      prefetch: Math.max(this.concurrency, Math.floor(options.prefetch ?? this.concurrency)),
      reconnectTimeoutMs: Math.max(0, options.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS),
      onLease: this.onLease,
      isRunning: () => this.state === 'running',
      onReconnecting: (error) => this.emit('reconnecting', {error}),
      onReconnected: (downMs) => {
        this.emit('reconnected', {downMs})
        this.keeper.outageOver()
      },
      onGiveUp: (error) => {
        this.emit('error', {error})
        this.reason = 'error'
        void this.close()
      },
    })
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve))
    this.onListenersChanged()
  }

  get runningJobs(): number {
    return this.pool.running
  }

  get bufferedLeases(): number {
    return this.pool.buffer.length
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'running'
    this.startedAtMs = now()
    // per-queue capabilities where they differ by queue (Redis list vs BullMQ on one server); a
    // queue not made yet gets what a new queue gets
    this.caps = await capabilitiesFor(this.broker, this.queue)
    await this.subscriber.start()
    this.keeper.start(this.caps.extend)
    this.armIdleCheck()
  }

  /** Graceful: stop fetching, hand back unstarted leases, wait for running jobs. Force: hand back running ones too. */
  close(force = false): Promise<WorkerSummary> {
    if (force) this.forceStop()
    this.closing ??= this.shutdown()
    return this.closing
  }

  protected override onListenersChanged(): void {
    this.listening = {
      timed: this.has('completed') || this.has('failed'),
      started: this.has('started'),
      retrying: this.has('retrying'),
      dead: this.has('dead'),
      drained: this.has('drained'),
    }
  }

  private readonly onLease = (lease: Lease): void => {
    this.deliveries++
    if (this.state !== 'running') {
      this.keeper.settle(lease.nack())
      return
    }
    if (this.pool.hasFree && this.mayStart()) this.run(lease)
    else this.pool.buffer.push(lease)
  }

  private mayStart(): boolean {
    return this.maxJobs === 0 || this.counts.started < this.maxJobs
  }

  private run(lease: Lease): void {
    const message = withBody(lease.message)
    const attempt = message.attempts > 0 ? message.attempts : 1
    const controller = this.timeoutMs > 0 ? new AbortController() : undefined
    const job: Job = {message, attempt, signal: controller ? controller.signal : this.stopSignal}
    const index = this.pool.occupy(lease, job, controller, this.listening.timed ? now() : 0, this.keeper.tick)
    const gen = this.pool.slots[index]!.gen
    this.idle = false
    this.counts.started++
    if (this.ackEarly) this.keeper.settle(lease.ack())
    if (this.listening.started) this.emit('started', {message, attempt})
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
    const slot = this.pool.slots[index]!
    if (slot.gen !== gen) return
    const lease = slot.lease!
    const job = slot.job!
    const startedAt = slot.startedAt
    this.pool.release(index)
    this.counts.completed++
    if (!this.ackEarly) this.keeper.settle(lease.ack())
    if (this.listening.timed) this.emit('completed', {message: job.message, attempt: job.attempt, durationMs: now() - startedAt, result})
    this.finishedOne()
  }

  private fail(index: number, gen: number, thrown: unknown): void {
    const slot = this.pool.slots[index]!
    if (slot.gen !== gen) return
    const lease = slot.lease!
    const {message, attempt} = slot.job!
    const startedAt = slot.startedAt
    this.pool.release(index)
    const error = thrown instanceof Error ? thrown : new Error(String(thrown))
    this.counts.failed++
    if (this.listening.timed) this.emit('failed', {message, attempt, durationMs: now() - startedAt, error})
    if (!this.ackEarly) {
      if (attempt >= this.maxAttempts) this.exhausted(lease, message, attempt, error)
      else {
        this.counts.retried++
        const delayMs = this.requeue(lease, backoffDelay(attempt, this.backoff))
        if (this.listening.retrying) this.emit('retrying', {message, attempt, delayMs})
      }
    }
    this.finishedOne()
  }

  /** Puts a failed message back, after `backoffMs` where the broker can delay; returns the delay used. */
  private requeue(lease: Lease, backoffMs: number): number {
    const delay = this.caps.delay
    const delayMs = delay ? Math.min(backoffMs, delay.maxMs) : 0
    this.keeper.settle(lease.nack(delayMs > 0 ? {delayMs, failed: true} : {failed: true}))
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
      this.keeper.settle(lease.deadLetter(reason))
    } else if (policy === 'drop') {
      outcome = 'dropped'
      this.counts.dropped++
      this.keeper.settle(lease.ack())
    } else if (policy === 'requeue') {
      outcome = 'requeued'
      this.counts.kept++
      this.requeue(lease, this.backoff.maxMs)
    } else {
      // 'stop', or 'dead-letter' on a queue that has no dead-letter route: keep it, stop working
      outcome = 'kept'
      this.counts.kept++
      this.keeper.settle(lease.nack({failed: true}))
      if (this.state === 'running') {
        this.reason = 'exhausted'
        void this.close()
      }
    }
    if (this.listening.dead) this.emit('dead', {message, attempt, reason, deadLettered: outcome === 'dead-lettered', outcome})
  }

  /** After a job ends: start buffered work, notice --max-jobs and idleness. */
  private finishedOne(): void {
    const {pool} = this
    this.counts.finished++
    if (this.maxJobs > 0 && this.counts.finished >= this.maxJobs && this.state === 'running') {
      this.reason = 'max-jobs'
      void this.close()
    }
    while (pool.hasFree && pool.buffer.length > 0 && this.state === 'running' && this.mayStart()) {
      this.run(pool.buffer.shift()!)
    }
    if (pool.running === 0 && pool.buffer.length === 0 && !this.idle) {
      this.idle = true
      if (this.listening.drained) this.emit('drained', {})
      this.armIdleCheck()
    }
    if (pool.running === 0 && this.keeper.settling === 0) this.settled?.()
  }

  /**
   * --until-empty: once idle for untilEmptyIdleMs since the last job ended, ask the broker whether
   * anything is left. Each new idle spell restarts the wait (a timer armed during an earlier spell
   * used to fire, see new deliveries and wait a whole period more: up to twice the idle time after
   * the last job); after a "not empty" with nothing delivered since, ask again every 250 ms.
   */
  private armIdleCheck(delayMs = this.untilEmptyIdleMs): void {
    if (this.untilEmptyIdleMs <= 0 || this.state !== 'running' || this.checkingEmpty) return
    clearTimeout(this.idleTimer)
    const seen = this.deliveries
    this.idleTimer = setTimeout(async () => {
      this.idleTimer = undefined
      // busy again: the next idle spell arms a fresh wait
      if (!this.idle || this.state !== 'running') return
      if (this.deliveries !== seen) return this.armIdleCheck()
      this.checkingEmpty = true
      const counts = await this.broker.stats(this.queue).then((s) => s.counts, () => undefined)
      this.checkingEmpty = false
      // this worker is idle, so anything in flight is leased by another consumer (perhaps a dead
      // one whose leases will expire and come back): not empty yet. No answer (the broker is
      // away) is not empty either.
      const left = counts ? (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.retry ?? 0) + (counts.inflight ?? 0) : 1
      if (left === 0 && this.idle && this.deliveries === seen && this.state === 'running') {
        this.reason = 'empty'
        void this.close()
      } else if (this.idle) this.armIdleCheck(this.deliveries === seen ? Math.max(delayMs, UNTIL_EMPTY_RECHECK_MS) : this.untilEmptyIdleMs)
    }, delayMs)
  }

  private forceStop(): void {
    if (this.state === 'closed') return
    this.reason = 'forced'
    this.state = 'closing'
    this.stopAll.abort(new Error('worker force-closed'))
    const slots = this.pool.slots
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!
      if (!slot.lease) continue
      const lease = slot.lease
      slot.controller?.abort(new Error('worker force-closed'))
      this.pool.release(i)
      this.counts.returned++
      if (!this.ackEarly) this.keeper.settle(lease.nack())
    }
    this.returnBuffered()
  }

  private returnBuffered(): void {
    for (let lease = this.pool.buffer.shift(); lease; lease = this.pool.buffer.shift()) {
      this.counts.returned++
      this.keeper.settle(lease.nack())
    }
  }

  private async shutdown(): Promise<WorkerSummary> {
    if (this.state === 'new') this.state = 'closing'
    if (this.state === 'running') this.state = 'closing'
    clearTimeout(this.idleTimer)
    await this.subscriber.close().catch((error) => this.emit('error', {error}))
    this.returnBuffered()
    if (this.pool.running > 0 || this.keeper.settling > 0) await new Promise<void>((resolve) => (this.settled = resolve))
    this.keeper.stop()
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
