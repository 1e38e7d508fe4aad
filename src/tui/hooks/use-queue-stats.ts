// React side of polling: one StatsPoller a broker, started on mount and stopped on unmount; the
// component re-renders with each new snapshot. Components never poll themselves.
import {useEffect, useMemo, useState} from 'react'
import type {Broker} from '../../broker/contract.js'
import {StatsPoller, type BrokerSnapshot, type PollerOptions} from '../../services/poller.js'

export interface QueueStatsControl {
  snapshots: BrokerSnapshot[]
  /** Poll every broker now. */
  refresh(): void
}

/** Stats of every queue of every broker, refreshed every `intervalMs` until unmount or `paused`. */
export function useAllQueueStats(
  brokers: readonly Broker[],
  intervalMs: number,
  options: {paused?: boolean} & Omit<PollerOptions, 'intervalMs'> = {},
): QueueStatsControl {
  const {timeoutMs, concurrency, queues} = options
  const pollers = useMemo(
    () => brokers.map((broker) => new StatsPoller(broker, {intervalMs, timeoutMs, concurrency, queues})),
    // a new broker list or interval means new pollers; `queues` is compared by content
    [brokers, intervalMs, timeoutMs, concurrency, queues?.join('\n')],
  )
  const [snapshots, setSnapshots] = useState(() => pollers.map((p) => p.snapshot))

  useEffect(() => {
    setSnapshots(pollers.map((p) => p.snapshot))
    const unsubscribe = pollers.map((poller, i) =>
      poller.subscribe((snapshot) => setSnapshots((prev) => prev.map((s, j) => (j === i ? snapshot : s)))),
    )
    for (const poller of pollers) poller.start()
    return () => {
      for (const off of unsubscribe) off()
      for (const poller of pollers) poller.stop()
    }
  }, [pollers])

  useEffect(() => {
    for (const poller of pollers) poller.setPaused(Boolean(options.paused))
  }, [pollers, options.paused])

  return useMemo(() => ({snapshots, refresh: () => pollers.forEach((p) => p.refresh())}), [snapshots, pollers])
}

/** One broker's stats; see useAllQueueStats. */
export function useQueueStats(broker: Broker, intervalMs: number, options: {paused?: boolean} & Omit<PollerOptions, 'intervalMs'> = {}) {
  const brokers = useMemo(() => [broker], [broker])
  const {snapshots, refresh} = useAllQueueStats(brokers, intervalMs, options)
  return {...snapshots[0]!, refresh}
}
