// JetStream's consumers as its API reports them: each durable (or ephemeral) consumer of a stream,
// with its pull requests waiting (pullers ready for work), acks pending (busy), max ack pending
// (concurrency) and last activity. JetStream records no host or pid of the clients behind them.
import type {JetStreamManager} from '@nats-io/jetstream'
import type {WorkerInfo, WorkerReport, WorkersOptions} from '../../broker/contract.js'
import {selectWorkers} from '../../broker/kit/workers.js'
import {parseQueue} from './names.js'

const isoMs = (text: string | undefined) => (text && !text.startsWith('0001-') ? Date.parse(text) : undefined)

export async function natsWorkers(jsm: JetStreamManager, options: WorkersOptions): Promise<WorkerReport> {
  const asked = options.queues.map((q) => parseQueue(q))
  const streams = asked.length ? [...new Set(asked.map((a) => a.stream))] : (await jsm.streams.names().next()).filter((s) => !s.endsWith('_DLQ'))
  const workers: WorkerInfo[] = []
  for (const stream of streams) {
    const consumers = await jsm.consumers.list(stream).next().catch(() => [])
    for (const c of consumers) {
      if (asked.length && !asked.some((a) => a.stream === stream && (a.consumer === undefined || a.consumer === c.name))) continue
      workers.push({
        kind: 'nats',
        name: c.name,
        queues: [`${stream}/${c.name}`],
        concurrency: c.config.max_ack_pending,
        busy: c.num_ack_pending,
        startedAt: isoMs(c.created),
        lastSeenAt: typeof c.delivered.last_active === 'string' ? isoMs(c.delivered.last_active) : undefined,
        details: {waitingPulls: c.num_waiting, pending: c.num_pending, durable: c.config.durable_name !== undefined, ackWaitMs: Math.round((c.config.ack_wait ?? 0) / 1e6), maxDeliver: c.config.max_deliver},
      })
    }
  }
  const notes = ['JetStream records consumers, not the processes behind them: waiting pulls are the pull requests open now']
  return {workers: selectWorkers(workers, {...options, queues: []}), notes}
}
