// How queues and messages look in a table: one formatter for inspect, top --once and friends.
import type {Message, QueueStats} from '../broker/contract.js'
import {payloadPreview} from './envelope.js'
import {type Column, renderTable} from '../kernel/output.js'
import {formatDuration} from '../kernel/units.js'

const count = (n: number | undefined) => (n === undefined ? '-' : n)
const dead = (s: QueueStats) => {
  const {dead: d, retry} = s.counts
  return d === undefined && retry === undefined ? undefined : (d ?? 0) + (retry ?? 0)
}

export const QUEUE_COLUMNS: Column<QueueStats>[] = [
  {header: 'queue', value: (s) => s.name},
  {header: 'kind', value: (s) => s.kind},
  {header: 'waiting', value: (s) => count(s.counts.waiting), align: 'right'},
  {header: 'in-flight', value: (s) => count(s.counts.inflight), align: 'right'},
  {header: 'delayed', value: (s) => count(s.counts.delayed), align: 'right'},
  {header: 'dead', value: (s) => count(dead(s)), align: 'right', style: (s) => ((dead(s) ?? 0) > 0 ? 'red' : undefined)},
  {header: 'consumers', value: (s) => count(s.consumers), align: 'right'},
  {header: 'oldest', value: (s) => formatDuration(s.oldestAgeMs), align: 'right'},
]

export function renderQueueTable(stats: QueueStats[], color?: boolean): string {
  return renderTable(QUEUE_COLUMNS, stats, color)
}

/** "waiting 10  in-flight 2  delayed 0  dead 1  consumers 3  oldest 4.2s" */
export function renderQueueSummary(stats: QueueStats): string {
  const parts: string[] = []
  for (const [state, n] of Object.entries(stats.counts)) parts.push(`${state === 'inflight' ? 'in-flight' : state} ${n}`)
  if (stats.consumers !== undefined) parts.push(`consumers ${stats.consumers}`)
  if (stats.oldestAgeMs !== undefined) parts.push(`oldest ${formatDuration(stats.oldestAgeMs)}`)
  if (stats.rates?.inPerSec !== undefined) parts.push(`in ${stats.rates.inPerSec.toFixed(1)}/s`)
  if (stats.rates?.outPerSec !== undefined) parts.push(`out ${stats.rates.outPerSec.toFixed(1)}/s`)
  if (stats.paused) parts.push('PAUSED')
  return parts.join('  ')
}

export function renderMessageTable(messages: Message[], now = Date.now(), color?: boolean): string {
  const columns: Column<Message>[] = [
    {header: 'id', value: (m) => m.id},
    {header: 'name', value: (m) => m.name},
    {header: 'attempts', value: (m) => m.attempts, align: 'right'},
    {header: 'enqueued', value: (m) => (m.enqueuedAt === undefined ? undefined : new Date(m.enqueuedAt).toISOString().replace('T', ' ').slice(0, 19))},
    {header: 'age', value: (m) => (m.enqueuedAt === undefined ? undefined : formatDuration(now - m.enqueuedAt)), align: 'right'},
    {header: 'payload', value: (m) => payloadPreview(m, 50), style: (m) => (m.undecodable ? 'yellow' : undefined)},
    {header: 'last error', value: (m) => (m.lastError ? m.lastError.split('\n')[0]!.slice(0, 60) : undefined), style: () => 'red'},
  ]
  return renderTable(columns, messages, color)
}
