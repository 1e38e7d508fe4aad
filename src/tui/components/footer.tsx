// One status line a broker: its redacted URL, when the values were last refreshed and how long
// that took, or why they are stale. Lines beyond `maxLines` fold into "+N more".
import {Box} from 'ink'
import {Text} from './text.js'
import {formatDuration} from '../../kernel/units.js'
import type {BrokerSnapshot} from '../../services/poller.js'

export function clock(at: number): string {
  const d = new Date(at)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

function footerLine(s: BrokerSnapshot): {text: string; color?: string} {
  const last = s.lastRefreshAt === undefined ? '' : `refreshed ${clock(s.lastRefreshAt)} in ${formatDuration(s.latencyMs)}`
  if (s.stale) return {text: `${s.displayUrl}  STALE ${last ? `(${last}) ` : ''}— ${s.error ?? 'no answer'}`, color: 'red'}
  if (s.loading) return {text: `${s.displayUrl}  loading…`, color: 'gray'}
  return {text: `${s.displayUrl}  ${last}`}
}

export interface FooterProps {
  snapshots: readonly BrokerSnapshot[]
  intervalMs: number
  paused: boolean
  maxLines: number
  width: number
}

export function Footer({snapshots, intervalMs, paused, maxLines, width}: FooterProps) {
  const room = Math.max(1, maxLines)
  const shown = snapshots.length > room ? snapshots.slice(0, room - 1) : snapshots
  const hidden = snapshots.length - shown.length
  const staleHidden = snapshots.slice(shown.length).filter((s) => s.stale).length
  return (
    <Box flexDirection="column" width={width}>
      {shown.map((s, i) => {
        const line = footerLine(s)
        const tail = i === 0 ? `  every ${formatDuration(intervalMs)}${paused ? '  PAUSED (p resumes)' : ''}` : ''
        return (
          <Text key={i} color={line.color} wrap="truncate">
            {line.text}
            <Text color={paused ? 'yellow' : 'gray'}>{tail}</Text>
          </Text>
        )
      })}
      {hidden > 0 ? (
        <Text color={staleHidden > 0 ? 'red' : 'gray'} wrap="truncate">
          +{hidden} more broker{hidden === 1 ? '' : 's'}
          {staleHidden > 0 ? ` (${staleHidden} stale)` : ''}
        </Text>
      ) : null}
    </Box>
  )
}
