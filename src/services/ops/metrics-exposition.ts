// The Prometheus exposition of the collector's snapshots, with prom-client (imported lazily: only
// `queue metrics` pays for it). Values are set from the last snapshots at each scrape.
import type {MessageState} from '../../broker/contract.js'
import type {MetricsCollector} from './metrics-collector.js'

export interface Exposition {
  contentType: string
  render(): Promise<string>
}

export async function createExposition(collector: MetricsCollector, staleAfterMs: number): Promise<Exposition> {
  const prom = await import('prom-client')
  const registry = new prom.Registry()
  const gauge = (name: string, help: string, labelNames: string[]) => new prom.Gauge({name, help, labelNames, registers: [registry]})
  const q = ['broker', 'queue', 'kind']
  const messages = gauge('queuectl_queue_messages', 'Messages in the queue by state (absent where the broker cannot count a state).', [...q, 'state'])
  const oldest = gauge('queuectl_queue_oldest_message_age_seconds', 'Age of the oldest waiting message, where the broker tells it.', q)
  const consumers = gauge('queuectl_queue_consumers', 'Consumers attached to the queue, where the broker tells it.', q)
  const workers = gauge('queuectl_queue_workers', 'Live workers on the queue (stale ones left out), where the broker or job library records them (queue workers).', q)
  const busy = gauge('queuectl_queue_workers_busy', 'Jobs the live workers on the queue hold now, where recorded.', q)
  const staleWorkers = gauge('queuectl_queue_workers_stale', 'Workers on the queue whose heartbeat is past the library\'s threshold (killed without a goodbye).', q)
  const rateIn = gauge('queuectl_queue_enqueue_rate', 'Messages enqueued per second, as the broker reports it.', q)
  const rateOut = gauge('queuectl_queue_dequeue_rate', 'Messages consumed/acked per second, as the broker reports it.', q)
  const paused = gauge('queuectl_queue_paused', '1 when the queue is paused.', q)
  const up = gauge('queuectl_broker_up', '1 when the last poll of the broker succeeded.', ['broker', 'transport'])
  const age = gauge('queuectl_broker_data_age_seconds', 'Seconds since the values of this broker were last refreshed (staleness).', ['broker'])
  const stale = gauge('queuectl_broker_stale', '1 when the values of this broker are older than the staleness limit (slow or unreachable broker).', ['broker'])
  const lastSuccess = gauge('queuectl_broker_last_success_timestamp_seconds', 'When the broker last answered a poll (Unix time).', ['broker'])
  const duration = gauge('queuectl_broker_poll_duration_seconds', 'How long the last poll took.', ['broker'])
  const errors = new prom.Counter({name: 'queuectl_broker_poll_errors_total', help: 'Failed polls since start.', labelNames: ['broker'], registers: [registry]})
  const queues = gauge('queuectl_broker_queues', 'Queues reported for the broker.', ['broker'])

  const fill = () => {
    for (const g of [messages, oldest, consumers, workers, busy, staleWorkers, rateIn, rateOut, paused, up, age, stale, lastSuccess, duration, errors, queues]) g.reset()
    const now = Date.now()
    for (const [broker, snap] of collector.snapshots) {
      up.set({broker, transport: snap.transport}, snap.error === undefined && snap.lastRefreshAt !== undefined ? 1 : 0)
      errors.inc({broker}, snap.errors ?? 0)
      if (snap.durationMs !== undefined) duration.set({broker}, snap.durationMs / 1000)
      const dataAge = snap.lastRefreshAt === undefined ? Infinity : now - snap.lastRefreshAt
      stale.set({broker}, dataAge > staleAfterMs ? 1 : 0)
      if (snap.lastRefreshAt === undefined) continue
      age.set({broker}, dataAge / 1000)
      lastSuccess.set({broker}, snap.lastRefreshAt / 1000)
      queues.set({broker}, snap.queues.length)
      for (const s of snap.queues) {
        const labels = {broker, queue: s.name, kind: s.kind}
        for (const [state, n] of Object.entries(s.counts) as [MessageState, number][]) messages.set({...labels, state}, n)
        if (s.oldestAgeMs !== undefined) oldest.set(labels, s.oldestAgeMs / 1000)
        if (s.consumers !== undefined) consumers.set(labels, s.consumers)
        if (s.workers !== undefined) {
          const live = s.workers.filter((w) => !w.stale)
          workers.set(labels, live.length)
          busy.set(labels, live.reduce((sum, w) => sum + (w.busy ?? 0), 0))
          staleWorkers.set(labels, s.workers.length - live.length)
        }
        if (s.rates?.inPerSec !== undefined) rateIn.set(labels, s.rates.inPerSec)
        if (s.rates?.outPerSec !== undefined) rateOut.set(labels, s.rates.outPerSec)
        if (s.paused !== undefined) paused.set(labels, s.paused ? 1 : 0)
      }
    }
  }

  return {
    contentType: registry.contentType,
    async render() {
      fill()
      return registry.metrics()
    },
  }
}
