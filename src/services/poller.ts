// Polls one broker for the stats of its queues, on a timer, never more than one poll at a time.
// A poll is time-bound: a broker that stops answering turns the snapshot stale (last values kept,
// error shown) and the poller keeps trying, so it recovers by itself. Plain TypeScript: the React
// hook only subscribes to it, and `--once` uses pollQueueStats directly.
import type {Broker, QueueStats} from '../broker/contract.js'
import {NotFoundError} from '../kernel/errors.js'
import {redactText} from '../kernel/redact.js'
import {formatDuration} from '../kernel/units.js'
import {QueueHistory} from './history.js'

export interface PollQueueOptions {
  /** Queues to watch by name: needed where the broker cannot list its queues. */
  queues?: readonly string[]
  /** Stats calls in flight at once. */
  concurrency?: number
  signal?: AbortSignal
}

/** Stats of every queue (listed or given), a few calls at a time; a queue deleted meanwhile is left out. */
export async function pollQueueStats(broker: Broker, options: PollQueueOptions = {}): Promise<QueueStats[]> {
  const names = options.queues?.length
    ? [...options.queues]
    : (await broker.capabilitiesOf()).listQueues
      ? (await broker.listQueues()).map((q) => q.name)
      : []
  const results: (QueueStats | undefined)[] = new Array(names.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      options.signal?.throwIfAborted()
      const i = next++
      try {
        results[i] = await broker.stats(names[i]!)
      } catch (error) {
        // listed a moment ago, gone now: not an error of the broker; a queue the user named is
        if (!(error instanceof NotFoundError) || options.queues?.length) throw error
      }
    }
  }
  const workers = Array.from({length: Math.max(1, Math.min(options.concurrency ?? 16, names.length))}, worker)
  await Promise.all(workers)
  return results.filter((r): r is QueueStats => r !== undefined)
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
  concurrency?: number
  queues?: readonly string[]
}

type Listener = (snapshot: BrokerSnapshot) => void

export class StatsPoller {
  private current: BrokerSnapshot
  private readonly listeners = new Set<Listener>()
  private timer: NodeJS.Timeout | undefined
  private inflight: Promise<unknown> | undefined
  private controller: AbortController | undefined
  private stopped = true
  private paused = false
  private readonly timeoutMs: number

  constructor(
    readonly broker: Broker,
    private readonly options: PollerOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? Math.max(2000, options.intervalMs * 2)
    this.current = {
      displayUrl: broker.displayUrl,
      transport: broker.transport,
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
    if (!this.stopped) return
    this.stopped = false
    this.schedule(0)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.controller?.abort()
  }

  /** While paused the values stay as they are; resuming polls at once. */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return
    this.paused = paused
    if (!paused) this.refresh()
  }

  /** Polls now instead of waiting for the timer (after an action changed the counts). */
  refresh(): void {
    if (this.stopped) return
    this.schedule(0)
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer)
    if (this.stopped) return
    this.timer = setTimeout(() => void this.tick(), delayMs)
  }

  private async tick(): Promise<void> {
    if (this.stopped) return
    if (this.paused) return this.schedule(this.options.intervalMs)
    // an abandoned poll still hangs on the broker: do not pile another one on top of it
    if (this.inflight) return this.schedule(this.options.intervalMs)
    const started = Date.now()
    const controller = new AbortController()
    this.controller = controller
    const poll = pollQueueStats(this.broker, {queues: this.options.queues, concurrency: this.options.concurrency, signal: controller.signal})
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
        this.fail(`no answer from ${this.broker.displayUrl} within ${formatDuration(this.timeoutMs)}`)
      } else {
        const at = Date.now()
        this.current.history.record(result, at)
        this.update({queues: result, lastRefreshAt: at, latencyMs: at - started, error: undefined, stale: false, loading: false})
      }
    } catch (error) {
      if (this.stopped) return
      this.fail(redactText(String((error as Error)?.message ?? error)))
    } finally {
      clearTimeout(timer)
    }
    this.schedule(Math.max(0, this.options.intervalMs - (Date.now() - started)))
  }

  private fail(error: string): void {
    this.update({error, stale: true})
  }

  private update(patch: Partial<BrokerSnapshot>): void {
    this.current = {...this.current, ...patch, version: this.current.version + 1}
    for (const listener of this.listeners) listener(this.current)
  }
}
