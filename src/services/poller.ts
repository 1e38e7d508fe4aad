// Polls one broker for the stats of its queues, on a timer, never more than one poll at a time:
// the live screen of `queue top` and the background polls of `queue metrics` both run on it.
// A poll is time-bound: a broker that stops answering turns the snapshot stale (last values kept,
// error shown) and the poller keeps trying, so it recovers by itself. Plain TypeScript: the React
// hook and the metrics collector only subscribe to it or read its snapshot.
import type {Broker, QueueStats} from '../broker/contract.js'
import {redactText} from '../kernel/redact.js'
import {formatDuration} from '../kernel/units.js'
import {QueueHistory} from './history.js'
import {queueStats} from './stats.js'

/** A broker the poller opens itself (and owns): closed after a failed poll, reopened by the next one. */
export interface BrokerOpener {
  /** Names the broker until it is open (in the snapshot and in a timeout's error). */
  label: string
  open(): Promise<Broker>
}

export interface BrokerSnapshot {
  displayUrl: string
  transport: string
  /** The last values that arrived; kept while stale. */
  queues: readonly QueueStats[]
  history: QueueHistory
  /** Epoch ms of the last successful poll. */
  lastRefreshAt?: number
  /** How long the last successful poll took. */
  latencyMs?: number
  /** How long the last poll took, failed or not. */
  durationMs?: number
  /** Failed polls since start. */
  errors?: number
  /** Why the values are stale (the last poll failed or timed out). */
  error?: string
  stale: boolean
  /** No poll has succeeded yet. */
  loading: boolean
  /** Bumped on every change, so React can tell a new snapshot from the old one. */
  version: number
}

export interface PollerOptions {
  intervalMs: number
  /** A poll that takes longer is abandoned and the snapshot marked stale. Default: 2 intervals, at least 2 s. */
  timeoutMs?: number
  /** Stats calls in flight at once; default 16 (a screen refreshed each second must finish well within it). */
  concurrency?: number
  /** Queues to watch by name: needed where the broker cannot list its queues. */
  queues?: readonly string[]
}

type Listener = (snapshot: BrokerSnapshot) => void

const LIVE_CONCURRENCY = 16

export class StatsPoller {
  private current: BrokerSnapshot
  private readonly listeners = new Set<Listener>()
  private broker: Broker | undefined
  private readonly opener: BrokerOpener | undefined
  private timer: NodeJS.Timeout | undefined
  private inflight: Promise<unknown> | undefined
  private controller: AbortController | undefined
  private running = false
  private stopped = false
  private paused = false
  private readonly timeoutMs: number
  private firstSettled!: () => void
  /** Resolves once the first poll settled (or the poller stopped): the first scrape then has data. */
  readonly firstPoll = new Promise<void>((resolve) => (this.firstSettled = resolve))

  constructor(
    source: Broker | BrokerOpener,
    private readonly options: PollerOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? Math.max(2000, options.intervalMs * 2)
    if ('stats' in source) this.broker = source
    else this.opener = source
    this.current = {
      displayUrl: this.broker?.displayUrl ?? this.opener!.label,
      transport: this.broker?.transport ?? 'unknown',
      queues: [],
      history: new QueueHistory(),
      stale: false,
      loading: true,
      version: 0,
    }
  }

  get snapshot(): BrokerSnapshot {
    return this.current
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.stopped = false
    this.schedule(0)
  }

  /** Stops polling; a broker the poller opened itself is closed. */
  async stop(): Promise<void> {
    this.stopped = true
    this.running = false
    clearTimeout(this.timer)
    this.controller?.abort()
    this.firstSettled()
    if (this.opener) await this.drop()
  }

  /** While paused the values stay as they are; resuming polls at once. */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return
    this.paused = paused
    if (!paused) this.refresh()
  }

  /** Polls now instead of waiting for the timer (after an action changed the counts). */
  refresh(): void {
    if (!this.running) return
    this.schedule(0)
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer)
    if (!this.running) return
    this.timer = setTimeout(() => void this.tick(), delayMs)
  }

  private async tick(): Promise<void> {
    if (!this.running) return
    // an abandoned poll still hangs on the broker: do not pile another one on top of it
    if (this.paused || this.inflight) return this.schedule(this.options.intervalMs)
    const started = Date.now()
    await this.poll()
    this.schedule(Math.max(0, this.options.intervalMs - (Date.now() - started)))
  }

  /** One poll now, within the time limit; never rejects (a failure marks the snapshot stale). */
  async poll(): Promise<void> {
    if (this.stopped || this.inflight) return
    const started = Date.now()
    const controller = new AbortController()
    this.controller = controller
    const poll = this.read(controller.signal)
    const settled = poll.then(
      () => undefined,
      () => undefined,
    )
    this.inflight = settled
    void settled.then(() => {
      if (this.inflight === settled) this.inflight = undefined
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.timeoutMs)))
    try {
      const result = await Promise.race([poll, timeout])
      if (this.stopped) return
      if (result === 'timeout') {
        controller.abort()
        this.fail(`no answer from ${this.current.displayUrl} within ${formatDuration(this.timeoutMs)}`, started)
      } else {
        const at = Date.now()
        this.current.history.record(result, at)
        this.update({queues: result, lastRefreshAt: at, latencyMs: at - started, durationMs: at - started, error: undefined, stale: false, loading: false})
      }
    } catch (error) {
      if (this.stopped) return
      this.fail(redactText(String((error as Error)?.message ?? error)), started)
    } finally {
      clearTimeout(timer)
      this.firstSettled()
    }
  }

  private async read(signal: AbortSignal): Promise<QueueStats[]> {
    let broker = this.broker
    if (!broker) {
      broker = await this.opener!.open()
      if (this.stopped) {
        await broker.close()
        throw new Error('stopped')
      }
      this.broker = broker
      if (this.current.transport !== broker.transport) this.update({transport: broker.transport})
    }
    return (await queueStats(broker, {queues: this.options.queues, concurrency: this.options.concurrency ?? LIVE_CONCURRENCY, signal, workers: true})).stats
  }

  private fail(error: string, started: number): void {
    this.update({error, stale: true, errors: (this.current.errors ?? 0) + 1, durationMs: Date.now() - started})
    // a hung or broken connection the poller opened is not reused: the next poll opens a fresh one
    if (this.opener) void this.drop()
  }

  private async drop(): Promise<void> {
    const broker = this.broker
    this.broker = undefined
    if (!broker) return
    let timer: NodeJS.Timeout | undefined
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))
    await Promise.race([broker.close().catch(() => {}), limit])
    clearTimeout(timer)
  }

  private update(patch: Partial<BrokerSnapshot>): void {
    this.current = {...this.current, ...patch, version: this.current.version + 1}
    for (const listener of this.listeners) listener(this.current)
  }
}
