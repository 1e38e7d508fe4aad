// The queue list: a header, the rows that fit (scrolled to keep the selection visible) and a
// totals row. Pure: everything comes in as props.
import {Box} from 'ink'
import {Text} from './text.js'
import {cellColor, cellText, clean, fit, GAP, layoutColumns, totalsText, type ListColumn} from '../columns.js'
import type {QueueRow, Sort, Totals} from '../rows.js'

export interface QueueListProps {
  rows: readonly QueueRow[]
  totals: Totals
  selectedKey?: string
  sort: Sort
  width: number
  /** Lines available for queue rows (header and totals not counted). */
  height: number
  showSource: boolean
  /** Why there are no rows, when there are none. */
  emptyText?: string
}

/** First row shown so that `selected` stays in a window of `height` rows. */
export function scrollOffset(count: number, selected: number, height: number): number {
  if (count <= height || selected < 0) return 0
  return Math.min(Math.max(0, selected - Math.floor(height / 2)), count - height)
}

export function QueueList({rows, totals, selectedKey, sort, width, height, showSource, emptyText}: QueueListProps) {
  const columns = layoutColumns(width, showSource, rows.reduce((w, r) => Math.max(w, clean(r.source).length), 0))
  const selected = rows.findIndex((r) => r.key === selectedKey)
  const offset = scrollOffset(rows.length, selected, Math.max(1, height))
  const shown = rows.slice(offset, offset + Math.max(1, height))
  const gap = ' '.repeat(GAP)
  const header = columns
    .map((c) => fit(c.sortKey === sort.key ? `${c.header}${sort.desc ? '↓' : '↑'}` : c.header, c.width, c.align))
    .join(gap)
  return (
    <Box flexDirection="column">
      <Text bold>{header}</Text>
      {shown.length === 0 ? <Text dimColor>{emptyText ?? 'no queues'}</Text> : null}
      {shown.map((row) => (
        <ListRow key={row.key} row={row} columns={columns} selected={row.key === selectedKey} />
      ))}
      {rows.length > 0 ? (
        <Text bold>{columns.map((c) => fit(totalsText(totals, c.id), c.width, c.align)).join(gap)}</Text>
      ) : null}
    </Box>
  )
}

function ListRow({row, columns, selected}: {row: QueueRow; columns: ListColumn[]; selected: boolean}) {
  // Split only where the colour changes: Ink's cost grows with its text nodes. The sparkline gets
  // a node of its own, so the rest of the row stays ASCII, which Ink measures on a fast path.
  const segments: {text: string; color?: string; wide?: boolean}[] = []
  columns.forEach((c, i) => {
    const text = (i > 0 ? ' '.repeat(GAP) : '') + fit(cellText(row, c.id, c.width), c.width, c.align)
    const color = cellColor(row, c.id)
    const wide = c.id === 'trend'
    const last = segments.at(-1)
    if (last && last.color === color && !wide && !last.wide) last.text += text
    else segments.push({text, color, wide})
  })
  const plain = segments.filter((s) => !s.wide)
  const spark = segments.find((s) => s.wide)
  return (
    <Box>
      <Text inverse={selected} wrap="truncate">
        {plain.map((s, i) => (
          <Text key={i} color={s.color}>
            {s.text}
          </Text>
        ))}
      </Text>
      {spark ? (
        <Text inverse={selected} color={spark.color} wrap="truncate">
          {spark.text}
        </Text>
      ) : null}
    </Box>
  )
}
