// Who is working: the consumers and worker processes a broker or its job libraries record, one
// list for `queue workers`, top's workers pane and CONSUMERS column, metrics and `wait consumers>=N`.
import type {Broker, WorkerInfo, WorkerReport} from '../broker/contract.js'
import {queueMatches} from '../broker/kit/workers.js'
import {type Column, renderTable} from '../kernel/output.js'
import {formatDuration} from '../kernel/units.js'

export async function listWorkers(broker: Broker, queues: readonly string[] = [], staleAfterMs?: number): Promise<WorkerReport> {
  return broker.workers({queues, staleAfterMs})
}

/** Per queue asked: the live workers on it (stale ones left out) and how many jobs they hold. */
export function workersOfQueue(report: WorkerReport, queue: string): {workers: number; busy: number; stale: number} {
  const on = report.workers.filter((w) => w.queues.some((q) => queueMatches(q, [queue]) || queueMatches(queue, [q])))
  const live = on.filter((w) => !w.stale)
  return {workers: live.length, busy: live.reduce((sum, w) => sum + (w.busy ?? 0), 0), stale: on.length - live.length}
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
