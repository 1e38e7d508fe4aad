// RabbitMQ's consumers, as its management API lists them: one row per consumer tag, with its
// channel's prefetch and unacked count (busy; shared out when a channel holds several consumers)
// and its connection's client properties (product, version, connection name); Celery workers
// also through Celery's own inspect broadcast (celery-inspect.ts).
import type {WorkerInfo, WorkerReport, WorkersOptions} from '../../broker/contract.js'
import {selectWorkers} from '../../broker/kit/workers.js'
import type {MgmtClient} from './mgmt.js'

export async function amqpWorkers(mgmt: MgmtClient | undefined, options: WorkersOptions, celery: () => Promise<WorkerInfo[]>): Promise<WorkerReport> {
  const celeryWorkers = await celery().catch(() => [])
  if (!mgmt) return {workers: selectWorkers(celeryWorkers, options), notes: ['RabbitMQ lists its consumers through the management API, which did not answer — point --mgmt-url at it']}
  const [consumers, channels, connections] = await Promise.all([mgmt.consumers(), mgmt.channels().catch(() => []), mgmt.connections().catch(() => [])])
  const channelOf = new Map(channels.map((c) => [c.name, c]))
  const connectionOf = new Map(connections.map((c) => [c.name, c]))
  const workers = consumers.map((c): WorkerInfo => {
    const ch = c.channel_details ?? {}
    const channel = channelOf.get(ch.name ?? '')
    const conn = connectionOf.get(ch.connection_name ?? '')
    const props = conn?.client_properties ?? {}
    const unacked = channel?.messages_unacknowledged
    const busy = unacked === undefined ? undefined : Math.round(unacked / Math.max(1, channel?.consumer_count ?? 1))
    return {
      kind: 'rabbitmq',
      name: c.consumer_tag,
      host: ch.peer_host,
      queues: [c.queue.name],
      concurrency: c.prefetch_count || undefined,
      busy,
      startedAt: conn?.connected_at,
      version: typeof props.product === 'string' ? `${props.product}${typeof props.version === 'string' ? ` ${props.version}` : ''}` : undefined,
      details: {
        channel: ch.name,
        connection: typeof props.connection_name === 'string' ? props.connection_name : ch.connection_name,
        user: ch.user,
        ackMode: c.ack_required === false ? 'auto' : 'manual',
        prefetch: c.prefetch_count ?? 0,
        active: c.active,
      },
    }
  })
  // a Celery worker is also a consumer of its queues: its inspect row says more (pid, active tasks)
  return {workers: selectWorkers([...celeryWorkers, ...workers], options), notes: []}
}
