// From broker snapshots to the rows of the queue list: filter, sort, totals, and the width each
// column gets. Pure functions, so the list component and the tests agree on one definition.
import type {QueueStats} from '../broker/contract.js'
import type {BrokerSnapshot} from '../services/poller.js'
import {targetName} from '../services/target-name.js'

export interface QueueRow {
  /** Unique across brokers: broker index and queue name. */
  key: string
  brokerIndex: number
  /** Short name of the broker (context name or host), shown when there are several. */
  source: string
  /** The full target, as prompts name it: the redacted URL with its vhost or db, after the context name when there is one. */
  target?: string
  stats: QueueStats
  /** Change of the waiting count over the last samples. */
  growth: number
  /** Waiting counts over the last minutes, for the sparkline. */
  depth: number[]
  stale: boolean
}

const SORT_KEYS = ['name', 'waiting', 'inflight', 'delayed', 'dead', 'consumers', 'in', 'out', 'oldest'] as const
export type SortKey = (typeof SORT_KEYS)[number]

export interface Sort {
  key: SortKey
  desc: boolean
}

function rowKey(brokerIndex: number, queue: string): string {
  return `${brokerIndex}/${queue}`
}

/** "prod (amqp://ops:***@rabbit/orders)" for a context, else the redacted URL itself (its vhost or db included). */
export function fullTarget(label: string | undefined, displayUrl: string): string {
  const url = targetName(displayUrl)
  return label && !label.includes('://') ? `${label} (${url})` : url
}

export function buildRows(snapshots: readonly BrokerSnapshot[], labels: readonly string[]): QueueRow[] {
  const rows: QueueRow[] = []
  snapshots.forEach((snapshot, brokerIndex) => {
    for (const stats of snapshot.queues) {
      rows.push({
        key: rowKey(brokerIndex, stats.name),
        brokerIndex,
        source: labels[brokerIndex] ?? snapshot.displayUrl,
        target: fullTarget(labels[brokerIndex], snapshot.displayUrl),
        stats,
        growth: snapshot.history.growth(stats.name),
        depth: snapshot.history.series(stats.name),
        stale: snapshot.stale,
      })
    }
  })
  return rows
}

/** Case-insensitive substring of the queue name, kind or source; `!text` excludes. */
export function filterRows(rows: readonly QueueRow[], filter: string): QueueRow[] {
  const text = filter.trim().toLowerCase()
  if (!text) return [...rows]
  const negate = text.startsWith('!')
  const needle = negate ? text.slice(1) : text
  return rows.filter((r) => {
    const hit = `${r.stats.name}\u0000${r.stats.kind}\u0000${r.source}`.toLowerCase().includes(needle)
    return negate ? !hit : hit
  })
}

/** Dead and waiting-for-retry together, as `queue inspect` counts them; absent when neither is known. */
export function deadOf(stats: QueueStats): number | undefined {
  const {dead, retry} = stats.counts
  return dead === undefined && retry === undefined ? undefined : (dead ?? 0) + (retry ?? 0)
}

function sortValue(row: QueueRow, key: SortKey): number | string {
  const s = row.stats
  switch (key) {
    case 'name':
      return s.name
    case 'consumers':
      return s.consumers ?? -1
    case 'in':
      return s.rates?.inPerSec ?? -1
    case 'out':
      return s.rates?.outPerSec ?? -1
    case 'oldest':
      return s.oldestAgeMs ?? -1
    case 'dead':
      return deadOf(s) ?? -1
    default:
      return s.counts[key] ?? -1
  }
}

export function sortRows(rows: readonly QueueRow[], sort: Sort): QueueRow[] {
  const dir = sort.desc ? -1 : 1
  return [...rows].sort((a, b) => {
    const va = sortValue(a, sort.key)
    const vb = sortValue(b, sort.key)
    const c = typeof va === 'string' ? va.localeCompare(vb as string) : va - (vb as number)
    // ties by name then broker, so rows do not jump around between refreshes
    return c * dir || a.stats.name.localeCompare(b.stats.name) || a.brokerIndex - b.brokerIndex
  })
}

/** Numeric columns start descending (the biggest backlog first), names ascending. */
export function nextSort(sort: Sort): Sort {
  const key = SORT_KEYS[(SORT_KEYS.indexOf(sort.key) + 1) % SORT_KEYS.length]!
  return {key, desc: key !== 'name'}
}

export interface Totals {
  queues: number
  counts: Partial<Record<'waiting' | 'inflight' | 'delayed' | 'dead', number>>
  consumers?: number
  inPerSec?: number
  outPerSec?: number
  oldestAgeMs?: number
}

export function totals(rows: readonly QueueRow[]): Totals {
  const t: Totals = {queues: rows.length, counts: {}}
  const add = (a: number | undefined, b: number | undefined) => (b === undefined ? a : (a ?? 0) + b)
  for (const {stats: s} of rows) {
    for (const state of ['waiting', 'inflight', 'delayed'] as const) t.counts[state] = add(t.counts[state], s.counts[state])
    t.counts.dead = add(t.counts.dead, deadOf(s))
    t.consumers = add(t.consumers, s.consumers)
    t.inPerSec = add(t.inPerSec, s.rates?.inPerSec)
    t.outPerSec = add(t.outPerSec, s.rates?.outPerSec)
    if (s.oldestAgeMs !== undefined) t.oldestAgeMs = Math.max(t.oldestAgeMs ?? 0, s.oldestAgeMs)
  }
  return t
}

/** 999, 12.3k, 4.5M: fits a 6-character column. */
export function formatCount(n: number | undefined): string {
  if (n === undefined) return '-'
  if (n < 10_000) return String(Math.round(n))
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`
  return `${(n / 1_000_000).toFixed(n < 100_000_000 ? 1 : 0)}M`
}

export function formatRate(n: number | undefined): string {
  if (n === undefined) return '-'
  if (n === 0) return '0'
  if (n < 10) return n.toFixed(1)
  return formatCount(n)
}

/** Finds the queue `text` names: exact, then prefix, then substring (case-insensitive). */
export function findRow(rows: readonly QueueRow[], text: string): QueueRow | undefined {
  const t = text.trim().toLowerCase()
  if (!t) return undefined
  const name = (r: QueueRow) => r.stats.name.toLowerCase()
  return rows.find((r) => name(r) === t) ?? rows.find((r) => name(r).startsWith(t)) ?? rows.find((r) => name(r).includes(t))
}
