// Queue detail: counts by state over time, the peeked messages, and the selected message's
// payload; or, in the payload view, the whole payload scrolled. Pure: everything comes as props.
import {Box} from 'ink'
import {Text} from './text.js'
import type {Message, MessageState, WorkerInfo} from '../../broker/contract.js'
import {payloadPreview} from '../../services/envelope.js'
import {formatDuration} from '../../kernel/units.js'
import {clean, fit} from '../columns.js'
import {sparkline} from '../../services/history.js'
import {messageFacts, payloadLines} from '../payload.js'
import {formatCount, type QueueRow} from '../rows.js'

export interface PeekResult {
  state: MessageState
  messages: readonly Message[]
  error?: string
  loading: boolean
  /** Why peeking is not free on this broker (requeue, visibility). */
  note?: string
}

export interface QueueDetailProps {
  row: QueueRow
  /** Counts a state over the kept samples, for the states the broker reports. */
  series: Readonly<Partial<Record<MessageState, readonly number[]>>>
  peek: PeekResult
  /** The `/` filter: its expression, how many messages were peeked, its mistake if any. */
  filter?: {text: string; of: number; error?: string}
  messageIndex: number
  width: number
  height: number
  now: number
}

const STATE_LABEL: Record<MessageState, string> = {
  waiting: 'waiting', inflight: 'in-flight', delayed: 'delayed', retry: 'retry', dead: 'dead', completed: 'completed', paused: 'paused',
}

export function QueueDetail({row, series, peek, filter, messageIndex, width, height, now}: QueueDetailProps) {
  const s = row.stats
  const states = (Object.keys(series) as MessageState[]).filter((st) => s.counts[st] !== undefined)
  const title = `${s.name} (${s.kind}) on ${row.target ?? row.source}${s.paused ? '  PAUSED' : ''}${row.stale ? '  STALE' : ''}`
  const facts = [
    s.consumers === undefined ? undefined : `consumers ${s.consumers}`,
    s.oldestAgeMs === undefined ? undefined : `oldest ${formatDuration(s.oldestAgeMs)}`,
    s.rates?.inPerSec === undefined ? undefined : `in ${s.rates.inPerSec.toFixed(1)}/s`,
    s.rates?.outPerSec === undefined ? undefined : `out ${s.rates.outPerSec.toFixed(1)}/s`,
  ].filter(Boolean)
  const sparkWidth = Math.max(0, Math.min(60, width - 20))
  // the workers pane: a header and up to 3 workers, where the broker records them
  const workers = s.workers ?? []
  const workerLines = s.workers === undefined ? 0 : 1 + Math.min(3, workers.length)
  // lines left for messages and the payload once the title, states, workers and headers are drawn
  const left = Math.max(2, height - 3 - states.length - workerLines - 2)
  const listLines = Math.max(1, Math.min(peek.messages.length || 1, Math.floor(left / 2)))
  const payloadRoom = Math.max(0, left - listLines)
  const selected = peek.messages[messageIndex]
  const first = Math.max(0, Math.min(messageIndex - listLines + 1, peek.messages.length - listLines))
  const shown = peek.messages.slice(first, first + listLines)
  const previewWidth = Math.max(10, width - 44)
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        {clean(title)}
      </Text>
      <Text dimColor wrap="truncate">
        {facts.join('  ') || ' '}
      </Text>
      {states.map((st) => (
        <Text key={st} wrap="truncate">
          {fit(STATE_LABEL[st], 10, 'left')} {fit(formatCount(s.counts[st]), 7, 'right')}{' '}
          <Text color={st === 'dead' && (s.counts.dead ?? 0) > 0 ? 'red' : 'cyan'}>{sparkline(series[st] ?? [], sparkWidth)}</Text>
        </Text>
      ))}
      {s.workers === undefined ? null : <WorkersPane workers={workers} now={now} />}
      <Text bold wrap="truncate">
        {`${STATE_LABEL[peek.state].toUpperCase()} MESSAGES${peek.loading ? ' (peeking…)' : ''}`}
        {filter ? <Text color="yellow">{clean(`  where ${filter.text} (${peek.messages.length} of ${filter.of} peeked)`)}</Text> : null}
        <Text dimColor>{peek.note ? `  ${peek.note}` : ''}</Text>
      </Text>
      {peek.error || filter?.error ? (
        <Text color="red" wrap="truncate">
          {clean(peek.error ?? `where: ${filter!.error!}`)}
        </Text>
      ) : shown.length === 0 ? (
        <Text dimColor>{peek.loading ? ' ' : `no ${STATE_LABEL[peek.state]} messages${filter ? ' match' : ''}`}</Text>
      ) : (
        shown.map((m, i) => (
          <Text key={m.id} inverse={first + i === messageIndex} wrap="truncate">
            {fit(m.id, 20, 'left')} {fit(m.name ?? '', 12, 'left')} {fit(String(m.attempts), 3, 'right')}{' '}
            {fit(m.enqueuedAt === undefined ? '-' : formatDuration(now - m.enqueuedAt), 6, 'right')} {clean(payloadPreview(m, previewWidth))}
          </Text>
        ))
      )}
      {selected && payloadRoom > 1 ? <PayloadView message={selected} scroll={0} height={payloadRoom} width={width} now={now} /> : null}
    </Box>
  )
}

/** Who works on the queue: live and stale counts, then the first three workers. */
function WorkersPane({workers, now}: {workers: readonly WorkerInfo[]; now: number}) {
  const stale = workers.filter((w) => w.stale).length
  const busy = workers.reduce((sum, w) => sum + (w.stale ? 0 : (w.busy ?? 0)), 0)
  return (
    <>
      <Text bold wrap="truncate">
        {`WORKERS ${workers.length - stale}`}
        <Text dimColor>{`  busy ${busy}${stale ? `  stale ${stale}` : ''}${workers.length > 3 ? `  (first 3: queue workers for all)` : ''}`}</Text>
      </Text>
      {workers.slice(0, 3).map((w, i) => (
        <Text key={i} color={w.stale ? 'red' : undefined} wrap="truncate">
          {fit(w.name, 28, 'left')} {fit(w.host ?? '-', 15, 'left')} {fit(w.pid === undefined ? '-' : String(w.pid), 7, 'right')}{' '}
          {fit(w.busy === undefined ? '-' : w.concurrency === undefined ? String(w.busy) : `${w.busy}/${w.concurrency}`, 7, 'right')}{' '}
          {w.stale ? 'STALE ' : ''}
          {w.lastSeenAt === undefined ? '' : `beat ${formatDuration(Math.max(0, now - w.lastSeenAt))} ago`}
        </Text>
      ))}
    </>
  )
}

export interface PayloadViewProps {
  message: Message
  scroll: number
  height: number
  width: number
  now: number
}

export function PayloadView({message, scroll, height, width, now}: PayloadViewProps) {
  const facts = messageFacts(message, now)
  const {kind, lines} = payloadLines(message)
  const room = Math.max(1, height - facts.length - 1)
  const top = Math.max(0, Math.min(scroll, lines.length - room))
  return (
    <Box flexDirection="column" width={width}>
      {facts.map((f, i) => (
        <Text key={i} dimColor wrap="truncate">
          {clean(f)}
        </Text>
      ))}
      <Text color="gray" wrap="truncate">
        {`── payload (${kind}${lines.length > room ? `, lines ${top + 1}-${Math.min(lines.length, top + room)} of ${lines.length}` : ''}) `.padEnd(width, '─')}
      </Text>
      {lines.slice(top, top + room).map((line, i) => (
        <Text key={i} wrap="truncate">
          {clean(line) || ' '}
        </Text>
      ))}
    </Box>
  )
}
