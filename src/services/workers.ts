// Who is working: the consumers and worker processes a broker or its job libraries record, one
// list for `queue workers`, top's workers pane and CONSUMERS column, metrics and `wait consumers>=N`.
import type {Broker, QueueStats, WorkerInfo, WorkerReport} from '../broker/contract.js'
import {queueMatches} from '../broker/kit/workers.js'
import {type Column, renderTable} from '../kernel/output.js'
import {formatDuration} from '../kernel/units.js'

export async function listWorkers(broker: Broker, queues: readonly string[] = [], staleAfterMs?: number): Promise<WorkerReport> {
  return broker.workers({queues, staleAfterMs})
}

/** The workers of the report on `queue` (NATS: a stream's consumers are STREAM/CONSUMER). */
export function onQueue(report: WorkerReport, queue: string): WorkerInfo[] {
  return report.workers.filter((w) => w.queues.some((q) => queueMatches(q, [queue]) || queueMatches(queue, [q]) || q.startsWith(`${queue}/`)))
}

/** Per queue: the live workers on it (stale ones left out), how many jobs they hold, and the stale ones. */
export function workerCounts(workers: readonly WorkerInfo[]): {workers: number; busy: number; stale: number} {
  const live = workers.filter((w) => !w.stale)
  return {workers: live.length, busy: live.reduce((sum, w) => sum + (w.busy ?? 0), 0), stale: workers.length - live.length}
}

/**
 * Puts on each queue's stats the workers on it (one `workers` call for all of them, bounded by the
 * broker's own deadline), and fills `consumers` where the broker's stats had none: top's CONSUMERS
 * column, metrics' gauges and `wait consumers>=N` read the same list. A broker that records no
 * workers, or a call that fails, leaves the stats as they were.
 */
export async function attachWorkers(broker: Broker, stats: QueueStats[]): Promise<void> {
  if (stats.length === 0) return
  const report = await broker.workers({queues: []}).catch(() => undefined)
  if (!report || report.recorded === false) return
  for (const s of stats) {
    s.workers = onQueue(report, s.name)
    s.consumers ??= workerCounts(s.workers).workers
  }
}

const ago = (at: number | undefined, now: number) => (at === undefined ? undefined : `${formatDuration(Math.max(0, now - at))} ago`)

export function workerColumns(now = Date.now()): Column<WorkerInfo>[] {
  return [
    {header: 'kind', value: (w) => w.kind},
    {header: 'worker', value: (w) => w.name},
    {header: 'host', value: (w) => w.host},
    {header: 'pid', value: (w) => w.pid, align: 'right'},
    {header: 'queues', value: (w) => w.queues.join(',')},
    {header: 'busy', value: (w) => (w.busy === undefined ? undefined : w.concurrency === undefined ? w.busy : `${w.busy}/${w.concurrency}`), align: 'right'},
    {header: 'current', value: (w) => (w.current?.length ? w.current.map((j) => (j.name ? `${j.name} ${j.id}` : j.id)).join(', ') : undefined)},
    {header: 'started', value: (w) => ago(w.startedAt, now)},
    {header: 'heartbeat', value: (w) => (w.stale ? `STALE ${ago(w.lastSeenAt, now)}` : ago(w.lastSeenAt, now)), style: (w) => (w.stale ? 'red' : undefined)},
    {header: 'version', value: (w) => w.version},
  ]
}

export function renderWorkerTable(workers: WorkerInfo[], color?: boolean, now = Date.now()): string {
  return renderTable(workerColumns(now), workers, color)
}
