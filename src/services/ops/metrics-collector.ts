// `queue metrics`: polls every broker in the background and keeps the last answer, so a scrape
// never waits on a broker. Each poll has a time limit; a broker that is slow or down keeps its
// last values, marked stale (the exposition shows how old they are).
import type {Broker, QueueStats} from '../../broker/contract.js'
import {mapLimit} from '../inspect.js'
import {sleep, withTimeout} from './timing.js'

export interface MetricsTarget {
  /** The `broker` label: the context name, or the redacted URL. */
  label: string
  /** Creates and connects a broker (throws on failure). */
  open(): Promise<Broker>
  /** Queues to report; all the broker lists when empty. */
  queues: string[]
}

export interface Snapshot {
  label: string
  transport?: string
  stats: QueueStats[]
  /** Epoch ms of the last successful poll. */
  lastSuccess?: number
  lastError?: string
  lastDurationMs?: number
  errors: number
  polls: number
}

export class MetricsCollector {
  readonly snapshots: Map<string, Snapshot>
  private readonly brokers = new Map<string, Broker>()
  private stopped = false
  private readonly stopper = new AbortController()
  private loops: Promise<void>[] = []

  constructor(
    private readonly targets: MetricsTarget[],
    private readonly intervalMs: number,
    private readonly pollTimeoutMs: number,
  ) {
    this.snapshots = new Map(targets.map((t) => [t.label, {label: t.label, stats: [], errors: 0, polls: 0}]))
  }

  /** Starts the background polls; resolves after the first round, so the first scrape has data. */
  async start(): Promise<void> {
    const first = this.targets.map((t) => this.pollOnce(t))
    await Promise.all(first)
    this.loops = this.targets.map((t) => this.loop(t))
  }

  private async loop(target: MetricsTarget): Promise<void> {
    while (!this.stopped) {
      await sleep(this.intervalMs, this.stopper.signal)
      if (this.stopped) break
      await this.pollOnce(target)
    }
  }

  /** One poll of one broker, within pollTimeoutMs; never throws. */
  async pollOnce(target: MetricsTarget): Promise<void> {
    const snap = this.snapshots.get(target.label)!
    const started = Date.now()
    snap.polls++
    try {
      const stats = await withTimeout(this.collect(target), this.pollTimeoutMs, `polling ${target.label}`)
      snap.stats = stats
      snap.lastSuccess = Date.now()
      snap.lastError = undefined
    } catch (error) {
      snap.errors++
      snap.lastError = (error as Error).message
      // a hung or broken connection is not reused: the next poll opens a fresh one
      const broker = this.brokers.get(target.label)
      this.brokers.delete(target.label)
      if (broker) void broker.close().catch(() => {})
    } finally {
      snap.lastDurationMs = Date.now() - started
    }
  }

  private async collect(target: MetricsTarget): Promise<QueueStats[]> {
    let broker = this.brokers.get(target.label)
    if (!broker) {
      broker = await target.open()
      if (this.stopped) {
        await broker.close()
        throw new Error('stopped')
      }
      this.brokers.set(target.label, broker)
      this.snapshots.get(target.label)!.transport = broker.transport
    }
    const b = broker
    const names = target.queues.length > 0 ? target.queues : (await b.listQueues()).map((q) => q.name)
    const stats = await mapLimit(names, 8, async (name) => {
      try {
        return await b.stats(name)
      } catch (error) {
        // a queue deleted between list and stats is simply gone; a named one that is missing is an error
        if ((error as {exitCode?: number}).exitCode === 4 && target.queues.length === 0) return undefined
        throw error
      }
    })
    return stats.filter((s): s is QueueStats => s !== undefined)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.stopper.abort()
    await Promise.allSettled(this.loops)
    await Promise.allSettled([...this.brokers.values()].map((b) => withTimeout(b.close(), 5000, 'close')))
    this.brokers.clear()
  }
}
