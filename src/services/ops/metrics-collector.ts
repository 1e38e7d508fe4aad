// `queue metrics`: one StatsPoller a broker, polling in the background and keeping the last
// answer, so a scrape never waits on a broker. A broker that is slow or down keeps its last
// values, marked stale (the exposition shows how old they are).
import type {Broker} from '../../broker/contract.js'
import {StatsPoller, type BrokerSnapshot} from '../poller.js'
import {STATS_CONCURRENCY} from '../stats.js'

export interface MetricsTarget {
  /** The `broker` label: the context name, or the redacted URL. */
  label: string
  /** Creates and connects a broker (throws on failure). */
  open(): Promise<Broker>
  /** Queues to report; all the broker lists when empty. */
  queues: string[]
}

export class MetricsCollector {
  private readonly pollers: Map<string, StatsPoller>

  constructor(targets: MetricsTarget[], intervalMs: number, pollTimeoutMs: number) {
    this.pollers = new Map(
      targets.map((t) => [t.label, new StatsPoller(t, {intervalMs, timeoutMs: pollTimeoutMs, queues: t.queues, concurrency: STATS_CONCURRENCY})]),
    )
  }

  /** The last snapshot of each broker, by label. */
  get snapshots(): Map<string, BrokerSnapshot> {
    return new Map([...this.pollers].map(([label, poller]) => [label, poller.snapshot]))
  }

  /** Starts the background polls; resolves after the first round, so the first scrape has data. */
  async start(): Promise<void> {
    for (const poller of this.pollers.values()) poller.start()
    await Promise.all([...this.pollers.values()].map((p) => p.firstPoll))
  }

  /** One poll of every broker (`--once`). */
  async pollOnce(): Promise<void> {
    await Promise.all([...this.pollers.values()].map((p) => p.poll()))
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.pollers.values()].map((p) => p.stop()))
  }
}
