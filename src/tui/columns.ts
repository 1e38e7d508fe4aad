// The queue list's columns and which of them fit the terminal: the least useful go first on a
// narrow terminal, and the name takes what is left.
import {formatDuration} from '../kernel/units.js'
import {safeLine} from '../kernel/terminal.js'
import {sparkline} from '../services/history.js'
import {deadOf, formatCount, formatRate, type QueueRow, type SortKey, type Totals} from './rows.js'

export type ColumnId = 'source' | 'name' | 'kind' | SortKey | 'trend'

export interface ListColumn {
  id: ColumnId
  header: string
  width: number
  align: 'left' | 'right'
  /** Lower goes first when space runs out. */
  priority: number
  sortKey?: SortKey
}

const COLUMNS: ListColumn[] = [
  {id: 'source', header: 'BROKER', width: 14, align: 'left', priority: 3},
  {id: 'name', header: 'QUEUE', width: 12, align: 'left', priority: 10, sortKey: 'name'},
  {id: 'kind', header: 'KIND', width: 7, align: 'left', priority: 2},
  {id: 'waiting', header: 'WAIT', width: 6, align: 'right', priority: 9, sortKey: 'waiting'},
  {id: 'inflight', header: 'INFL', width: 6, align: 'right', priority: 8, sortKey: 'inflight'},
  {id: 'delayed', header: 'DELAY', width: 6, align: 'right', priority: 5, sortKey: 'delayed'},
  {id: 'dead', header: 'DEAD', width: 6, align: 'right', priority: 7, sortKey: 'dead'},
  {id: 'consumers', header: 'CONS', width: 5, align: 'right', priority: 4, sortKey: 'consumers'},
  {id: 'in', header: 'IN/s', width: 6, align: 'right', priority: 5, sortKey: 'in'},
  {id: 'out', header: 'OUT/s', width: 6, align: 'right', priority: 5, sortKey: 'out'},
  {id: 'oldest', header: 'OLDEST', width: 7, align: 'right', priority: 6, sortKey: 'oldest'},
  {id: 'trend', header: 'WAITING (3m)', width: 12, align: 'left', priority: 1},
]

export const GAP = 1
const NAME_MIN = 12
const NAME_MAX = 40

const SOURCE_MIN = 6
const SOURCE_MAX = 28

/**
 * The columns that fit in `width`, the name column widened into the space left (up to a limit).
 * The BROKER column is as wide as its longest label (`sourceWidth`, within bounds), so
 * `redis://127.0.0.1:6379` is not cut while QUEUE has room to spare.
 */
export function layoutColumns(width: number, showSource: boolean, sourceWidth = 14): ListColumn[] {
  let columns = COLUMNS.filter((c) => showSource || c.id !== 'source').map((c) => ({...c}))
  const source = columns.find((c) => c.id === 'source')
  if (source) source.width = Math.max(SOURCE_MIN, Math.min(SOURCE_MAX, sourceWidth))
  const used = (cols: ListColumn[]) => cols.reduce((sum, c) => sum + c.width + GAP, 0) - GAP
  while (used(columns) > width && columns.length > 2) {
    const drop = columns.filter((c) => c.id !== 'name').reduce((a, b) => (b.priority < a.priority ? b : a))
    columns = columns.filter((c) => c !== drop)
  }
  const name = columns.find((c) => c.id === 'name')!
  name.width = Math.max(1, Math.min(NAME_MAX, NAME_MIN + width - used(columns)))
  return columns
}

// names and payloads come from the broker: a control character must not reach the terminal
export function clean(text: string): string {
  return safeLine(text)
}

export function fit(raw: string, width: number, align: 'left' | 'right'): string {
  const text = clean(raw)
  const t = text.length > width ? (width > 1 ? `${text.slice(0, width - 1)}…` : text.slice(0, width)) : text
  return align === 'right' ? t.padStart(width) : t.padEnd(width)
}

export function cellText(row: QueueRow, id: ColumnId, width: number): string {
  const s = row.stats
  switch (id) {
    case 'source':
      return row.source
    case 'name':
      return s.paused ? `${s.name} (paused)` : s.name
    case 'kind':
      return s.kind
    case 'consumers':
      return formatCount(s.consumers)
    case 'in':
      return formatRate(s.rates?.inPerSec)
    case 'out':
      return formatRate(s.rates?.outPerSec)
    case 'oldest':
      return formatDuration(s.oldestAgeMs)
    case 'trend':
      return sparkline(row.depth, width)
    case 'dead':
      return formatCount(deadOf(s))
    default:
      return formatCount(s.counts[id])
  }
}

export function totalsText(t: Totals, id: ColumnId): string {
  switch (id) {
    case 'name':
      return `TOTAL (${t.queues})`
    case 'consumers':
      return formatCount(t.consumers)
    case 'in':
      return formatRate(t.inPerSec)
    case 'out':
      return formatRate(t.outPerSec)
    case 'oldest':
      return formatDuration(t.oldestAgeMs)
    case 'waiting':
    case 'inflight':
    case 'delayed':
    case 'dead':
      return formatCount(t.counts[id])
    default:
      return ''
  }
}

/** Colour of a cell: a growing backlog is yellow, red once its oldest message is over a minute old; dead is red. */
export function cellColor(row: QueueRow, id: ColumnId): string | undefined {
  if (row.stale) return 'gray'
  const s = row.stats
  if (id === 'dead' && (deadOf(s) ?? 0) > 0) return 'red'
  if ((id === 'waiting' || id === 'trend' || id === 'oldest') && row.growth > 0) {
    return (s.oldestAgeMs ?? 0) > 60_000 ? 'red' : 'yellow'
  }
  return undefined
}
