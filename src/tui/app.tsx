// `queue top`: the live screen. The App wires hooks (polling, peeking, terminal size) to pure
// components and the key reducer; runTop mounts it with a bounded frame rate on the alternate
// screen. This file is the entry of the TUI bundle (dist/tui/app.js), the only place Ink and React
// are loaded from.
import {Box, render, useApp, useInput} from 'ink'
import {useCallback, useEffect, useMemo, useRef, useState, type Dispatch, type SetStateAction} from 'react'
import type {Capabilities, Broker, MessageState} from '../broker/contract.js'
import {redactText} from '../kernel/redact.js'
import {runAction} from './actions.js'
import {Connecting} from './components/connecting.js'
import {Footer} from './components/footer.js'
import {Help} from './components/help.js'
import {PayloadView, QueueDetail} from './components/queue-detail.js'
import {QueueList} from './components/queue-list.js'
import {StatusLine} from './components/status-line.js'
import {ColorContext, Text} from './components/text.js'
import {useQueueCapabilities} from './hooks/use-capabilities.js'
import {usePeek} from './hooks/use-peek.js'
import {useWhere} from './hooks/use-where.js'
import {useAllQueueStats} from './hooks/use-queue-stats.js'
import {useTerminalSize} from './hooks/use-terminal-size.js'
import {detailContext, initialUiState, reduceKey, splitKeys, type DetailContext, type Effect, type KeyContext, type PendingAction, type UiState} from './keys.js'
import {buildRows, filterRows, sortRows, totals, type QueueRow} from './rows.js'

export interface TopAppProps {
  brokers: readonly Broker[]
  /** Short names of the brokers (context names or hosts), shown when there are several. */
  labels: readonly string[]
  intervalMs: number
  /** Queues to watch where the broker cannot list them. */
  queues?: readonly string[]
  initialUi?: Partial<UiState>
}

const FOOTER_MAX = 3
/** Messages peeked while the detail view is filtered: more than a screen, so the filter has some to choose from. */
const FILTERED_PEEK = 200

export function TopApp({brokers, labels, intervalMs, queues, initialUi}: TopAppProps) {
  const size = useTerminalSize()
  const [ui, setUi] = useState<UiState>(() => ({...initialUiState, ...initialUi}))
  const [peekToken, setPeekToken] = useState(0)
  const {snapshots, refresh} = useAllQueueStats(brokers, intervalMs, {paused: ui.paused, queues})

  const allRows = useMemo(() => buildRows(snapshots, labels), [snapshots, labels])
  const rows = useMemo(() => sortRows(filterRows(allRows, ui.filter), ui.sort), [allRows, ui.filter, ui.sort])
  const selectedKey = rows.some((r) => r.key === ui.selectedKey) ? ui.selectedKey : rows[0]?.key
  const detailRow = ui.detailKey === undefined ? undefined : allRows.find((r) => r.key === ui.detailKey)
  const detailBroker = detailRow ? brokers[detailRow.brokerIndex] : undefined
  const inDetail = ui.view !== 'list' && detailRow !== undefined

  // one line short of the terminal: a frame as tall as the screen makes Ink clear and flicker
  const height = Math.max(4, size.rows - 1)
  const footerLines = Math.min(brokers.length, FOOTER_MAX)
  const main = Math.max(1, height - footerLines - 2)
  // the selected queue's own capabilities: the keys and peeks it supports (Redis: list vs bullmq)
  const caps = useQueueCapabilities(detailBroker, detailRow?.stats.name, peekToken)
  const peek = usePeek(inDetail ? detailBroker : undefined, detailRow?.stats.name, caps, ui.peekState, {
    limit: ui.where ? FILTERED_PEEK : Math.max(5, Math.min(100, main)),
    intervalMs,
    paused: ui.paused,
    token: peekToken,
  })

  // the filtered ids are those of the state shown: none while a Tab's peek has not answered yet
  const filtered = useWhere(inDetail, ui.where, peek.messages)
  const shownPeek = ui.where ? {...peek, messages: filtered.messages} : peek
  const detail: DetailContext | undefined = detailRow && detailBroker ? detailContext(detailRow, caps) : undefined
  const ctx: KeyContext = {rows, allRows, pageSize: Math.max(1, main - 3), messageCount: shownPeek.messages.length, detail, filteredIds: peek.state === ui.peekState ? filtered.ids : undefined, checkWhere: filtered.check}
  const nextPeek = useCallback(() => setPeekToken((t) => t + 1), [])
  const {busy, run} = useActions(brokers, setUi, () => {
    refresh()
    nextPeek()
  })
  useKeys({ui, ctx, selectedKey}, setUi, run, nextPeek)

  const now = Date.now()
  let body
  if (ui.help) body = <Help width={size.columns} height={main + 1} />
  else if (inDetail && ui.view === 'payload' && shownPeek.messages[ui.messageIndex]) {
    body = <PayloadView message={shownPeek.messages[ui.messageIndex]!} scroll={ui.payloadScroll} height={main + 1} width={size.columns} now={now} />
  } else if (inDetail) {
    body = <QueueDetail row={detailRow} series={seriesOf(snapshots[detailRow.brokerIndex]!, detailRow.stats.name, caps, detailRow.stats.counts)} peek={shownPeek} filter={ui.where ? {text: ui.where, of: peek.messages.length, error: filtered.error} : undefined} messageIndex={ui.messageIndex} width={size.columns} height={main + 1} now={now} />
  } else {
    body = <ListView allRows={allRows} rows={rows} snapshots={snapshots} brokerCount={brokers.length} ui={ui} selectedKey={selectedKey} width={size.columns} height={main} />
  }
  return (
    <Box flexDirection="column" height={height} width={size.columns}>
      <Box flexDirection="column" flexGrow={1}>
        {body}
      </Box>
      <StatusLine ui={{...ui, view: inDetail ? ui.view : 'list'}} busy={busy} detail={detail} />
      <Footer snapshots={snapshots} intervalMs={intervalMs} paused={ui.paused} maxLines={FOOTER_MAX} width={size.columns} />
    </Box>
  )
}

/** Runs a confirmed action (purge, retry…) on its broker; its outcome goes to the status line, then `after` (refresh). */
function useActions(brokers: readonly Broker[], setUi: Dispatch<SetStateAction<UiState>>, after: () => void) {
  const [busy, setBusy] = useState<string>()
  const afterRef = useRef(after)
  afterRef.current = after
  const run = useCallback(
    (action: PendingAction) => {
      const broker = brokers[action.brokerIndex]
      if (!broker) return
      setBusy(`${action.kind} ${action.queue}…`)
      runAction(broker, action).then(
        (text) => setUi((u) => ({...u, status: {text, error: false}})),
        (error: unknown) => setUi((u) => ({...u, status: {text: `${action.kind} failed: ${redactText(String((error as Error)?.message ?? error))}`, error: true}})),
      ).finally(() => {
        setBusy(undefined)
        afterRef.current()
      })
    },
    [brokers, setUi],
  )
  return {busy, run}
}

/** Keys through the reducer; its effects (quit, run an action, peek again) carried out. */
function useKeys(state: {ui: UiState; ctx: KeyContext; selectedKey: string | undefined}, setUi: (ui: UiState) => void, run: (action: PendingAction) => void, peekAgain: () => void) {
  const {exit} = useApp()
  // the handler reads the latest state through refs: keys can arrive faster than renders
  const latest = useRef(state)
  latest.current = state
  useInput((input, key) => {
    for (const [one, press] of splitKeys(input, key)) {
      const {ui: current, ctx: context, selectedKey: sel} = latest.current
      const result = reduceKey({...current, selectedKey: sel}, one, press, context)
      latest.current = {...latest.current, ui: result.state}
      setUi(result.state)
      const effect: Effect | undefined = result.effect
      if (effect?.type === 'quit') return exit()
      if (effect?.type === 'run') run(effect.action)
      else if (effect?.type === 'peek') peekAgain()
    }
  })
}

interface ListViewProps {
  allRows: readonly QueueRow[]
  rows: QueueRow[]
  snapshots: readonly {loading: boolean}[]
  brokerCount: number
  ui: UiState
  selectedKey: string | undefined
  width: number
  height: number
}

/** The queue list under its header line. */
function ListView({allRows, rows, snapshots, brokerCount, ui, selectedKey, width, height}: ListViewProps) {
  const queueCount = allRows.length
  const header = `queue top  ${queueCount} queue${queueCount === 1 ? '' : 's'}${brokerCount > 1 ? ` on ${brokerCount} brokers` : ''}${ui.filter ? `  (${rows.length} shown)` : ''}`
  return (
    <>
      <Text bold color="cyan" wrap="truncate">
        {header}
      </Text>
      <QueueList
        rows={rows}
        totals={totals(rows)}
        selectedKey={selectedKey}
        sort={ui.sort}
        width={width}
        height={Math.max(1, height - 2)}
        showSource={brokerCount > 1}
        emptyText={snapshots.every((s) => s.loading) ? 'loading…' : ui.filter ? `no queue matches "${ui.filter}"` : 'no queues'}
      />
    </>
  )
}

function seriesOf(snapshot: {history: {series(q: string, s: MessageState): number[]}}, queue: string, caps: Capabilities | undefined, counts: Partial<Record<MessageState, number>>) {
  const out: Partial<Record<MessageState, number[]>> = {}
  // until the queue's capabilities are read, the states its stats count
  for (const state of caps?.states ?? (Object.keys(counts) as MessageState[])) out[state] = snapshot.history.series(queue, state)
  return out
}

export interface RunTopOptions extends Omit<TopAppProps, 'brokers'> {
  /** The brokers, or the promise of them while they connect (a "connecting" frame shows meanwhile). */
  brokers: readonly Broker[] | Promise<readonly Broker[]>
  /** Redacted URLs for the connecting frame. */
  displayUrls?: readonly string[]
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
  /** Frames a second at most; a refresh each second needs few. */
  maxFps?: number
  /** Aborting it closes the screen (SIGTERM, SIGINT from outside). */
  signal?: AbortSignal
  /** Colours (default on); off keeps bold, dim and inverse. */
  color?: boolean
  /** The caller has entered the alternate screen and painted a first frame (first-frame.ts). */
  screenEntered?: boolean
}

export function Startup({brokers, displayUrls = [], ...props}: Omit<RunTopOptions, 'stdout' | 'stdin' | 'maxFps' | 'signal' | 'color' | 'screenEntered'>) {
  const {exit} = useApp()
  const size = useTerminalSize()
  const [ready, setReady] = useState<readonly Broker[] | undefined>(Array.isArray(brokers) ? brokers : undefined)
  useEffect(() => {
    if (ready) return
    let mounted = true
    Promise.resolve(brokers).then(
      (b) => mounted && setReady(b),
      // the command prints the error once the screen is gone
      (error: unknown) => mounted && exit(error instanceof Error ? error : new Error(String(error))),
    )
    return () => {
      mounted = false
    }
  }, [])
  if (!ready) return <Connecting urls={displayUrls} width={size.columns} height={Math.max(4, size.rows - 1)} />
  return <TopApp brokers={ready} {...props} />
}

/** Mounts the TUI on the alternate screen and resolves when the user quits (rejects if connecting fails). */
export async function runTop({stdout = process.stdout, stdin = process.stdin, maxFps = 10, signal, color = true, screenEntered = false, ...props}: RunTopOptions): Promise<void> {
  // the alternate screen, like k9s and top: the shell's scrollback is left as it was; a frame
  // painted there before Ink loaded is cleared for Ink to paint its own (the same lines)
  stdout.write(screenEntered ? '\u001B[H\u001B[2J' : '\u001B[?1049h\u001B[H')
  try {
    const instance = render(
      <ColorContext.Provider value={color}>
        <Startup {...props} />
      </ColorContext.Provider>,
      {stdout, stdin, maxFps, exitOnCtrlC: false, patchConsole: false},
    )
    const unmount = () => instance.unmount()
    signal?.addEventListener('abort', unmount)
    try {
      await instance.waitUntilExit()
    } finally {
      signal?.removeEventListener('abort', unmount)
    }
  } finally {
    stdout.write('\u001B[?1049l')
  }
}
