// What each key does, k9s style, as a pure reducer: (state, key, context) → new state and at
// most one effect for the app to carry out (quit, run a confirmed action, refresh, peek again).
// Keeping it free of React makes every key path testable without a terminal.
import type {Capabilities, MessageState} from '../broker/contract.js'
import {findRow, nextSort, type QueueRow, type Sort} from './rows.js'

export type View = 'list' | 'detail' | 'payload'
export type PromptKind = 'filter' | 'jump' | 'move' | 'where'
export type ActionKind = 'purge' | 'retry' | 'pause' | 'resume' | 'move'

export interface PendingAction {
  kind: ActionKind
  brokerIndex: number
  queue: string
  state?: MessageState
  to?: string
  /** Only these jobs (the detail view's `/` filter), and the expression that chose them, for the audit log. */
  ids?: readonly string[]
  where?: string
  /** What the confirmation line asks. */
  question: string
}

export interface UiState {
  view: View
  help: boolean
  prompt?: {kind: PromptKind; text: string; error?: string}
  confirm?: PendingAction
  filter: string
  /** The detail view's message filter, a CEL expression over the peeked messages ('' none). */
  where: string
  sort: Sort
  selectedKey?: string
  paused: boolean
  /** Row key of the queue shown in detail. */
  detailKey?: string
  peekState: MessageState
  messageIndex: number
  payloadScroll: number
  status?: {text: string; error: boolean}
}

export const initialUiState: UiState = {
  view: 'list',
  help: false,
  filter: '',
  where: '',
  sort: {key: 'name', desc: false},
  paused: false,
  peekState: 'waiting',
  messageIndex: 0,
  payloadScroll: 0,
}

/** The parts of Ink's Key the reducer reads. */
export interface KeyPress {
  upArrow?: boolean
  downArrow?: boolean
  leftArrow?: boolean
  rightArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  ctrl?: boolean
  tab?: boolean
  backspace?: boolean
  delete?: boolean
}

export interface DetailContext {
  row: QueueRow
  /** States that can be peeked, in tab order. */
  peekStates: readonly MessageState[]
  purgeStates: readonly MessageState[]
  /** States single jobs can be deleted from by id (capabilities.remove): what D takes when filtered. */
  removeStates?: readonly MessageState[]
  canRetry: boolean
  canPause: boolean
  /** M: a move takes the messages by consuming them (capabilities.consume). */
  canMove: boolean
  /** What to do instead, for the keys this queue refuses. */
  advice?: Capabilities['advice']
  /** The queue's capabilities are still being read: its action keys wait. */
  loading?: boolean
}

/** The tab order of peekable states. */
const PEEK_ORDER: readonly MessageState[] = ['waiting', 'delayed', 'retry', 'dead', 'inflight', 'completed', 'paused']

/** What the detail view offers for one queue, from its own capabilities (undefined: not read yet). */
export function detailContext(row: QueueRow, caps: Capabilities | undefined): DetailContext {
  if (!caps) return {row, peekStates: ['waiting'], purgeStates: [], removeStates: [], canRetry: false, canPause: false, canMove: true, loading: true}
  return {
    row,
    peekStates: PEEK_ORDER.filter((s) => caps.states.includes(s)),
    purgeStates: caps.purgeStates,
    removeStates: caps.remove?.states ?? [],
    // the library's own retry, or moving back from the queue's dead-letter queue
    canRetry: caps.retry !== false || (caps.deadLetter === 'queue' && caps.deadLetterQueue !== undefined),
    canPause: caps.pause,
    canMove: caps.consume,
    advice: caps.advice,
  }
}

/** The key hints of the detail view: only the actions this queue supports. */
export function detailHints(detail: DetailContext | undefined): string {
  const keys = ['Esc back', '↑↓ select', 'Enter payload', '/ where']
  if (!detail || detail.peekStates.length > 1) keys.push('Tab state')
  keys.push('r peek')
  if (detail && !detail.loading) {
    if (detail.purgeStates.length > 0) keys.push('D purge')
    if (detail.canRetry) keys.push('R retry')
  }
  if (!detail || detail.canMove) keys.push('M move')
  if (detail?.canPause) keys.push(detail.row.stats.paused ? 'P resume queue' : 'P pause queue')
  return keys.join('  ')
}

export interface KeyContext {
  /** The list as shown: filtered and sorted. */
  rows: readonly QueueRow[]
  /** Every queue, for `:` jump. */
  allRows: readonly QueueRow[]
  /** Lines a page moves. */
  pageSize: number
  messageCount: number
  detail?: DetailContext
  /** The ids the detail view shows under its `/` filter (undefined: no filter). */
  filteredIds?: readonly string[]
  /** Checks a `/` expression on the detail view: its error with the column, or undefined when valid (undefined: not loaded yet). */
  checkWhere?: (text: string) => string | undefined
}

export type Effect = {type: 'quit'} | {type: 'run'; action: PendingAction} | {type: 'peek'}

export interface KeyResult {
  state: UiState
  effect?: Effect
}

/**
 * Splits a burst of typed characters that arrived as one read (fast typing, a paste, a loaded
 * machine) into single key presses, Enter and Backspace included, so none of them is lost.
 */
export function splitKeys(input: string, key: KeyPress & {meta?: boolean}): [string, KeyPress][] {
  const chars = [...input]
  if (chars.length <= 1 || key.ctrl || key.meta || key.escape) return [[input, key]]
  return chars.map((ch): [string, KeyPress] => {
    if (ch === '\r' || ch === '\n') return ['', {return: true}]
    if (ch === '\u007F' || ch === '\b') return ['', {delete: true}]
    if (ch === '\t') return ['', {tab: true}]
    return [ch, {}]
  })
}

export function reduceKey(state: UiState, input: string, key: KeyPress, ctx: KeyContext): KeyResult {
  if (key.ctrl && input === 'c') return {state, effect: {type: 'quit'}}
  // any key closes the help
  if (state.help) return {state: {...state, help: false}}
  if (state.confirm) return confirmKey(state, state.confirm, input, key)
  if (state.prompt) return promptKey(state, state.prompt, input, key, ctx)
  const s: UiState = state.status ? {...state, status: undefined} : state
  switch (input) {
    case 'q':
      return {state: s, effect: {type: 'quit'}}
    case '?':
      return {state: {...s, help: true}}
    case 'p':
      return {state: {...s, paused: !s.paused}}
  }
  if (s.view === 'list') return listKey(s, input, key, ctx)
  if (s.view === 'detail') return detailKey(s, input, key, ctx)
  return payloadKey(s, key, ctx)
}

function move(index: number, count: number, input: string, key: KeyPress, page: number): number | undefined {
  if (count === 0) return undefined
  let next: number | undefined
  if (key.upArrow || input === 'k') next = index - 1
  else if (key.downArrow || input === 'j') next = index + 1
  else if (key.pageUp || (key.ctrl && input === 'b')) next = index - page
  else if (key.pageDown || (key.ctrl && input === 'f')) next = index + page
  else if (key.home || input === 'g') next = 0
  else if (key.end || input === 'G') next = count - 1
  return next === undefined ? undefined : Math.max(0, Math.min(count - 1, next))
}

function openDetail(state: UiState, row: QueueRow): UiState {
  // a message filter belongs to the queue it was typed on
  return {...state, view: 'detail', detailKey: row.key, selectedKey: row.key, peekState: 'waiting', where: '', messageIndex: 0, payloadScroll: 0}
}

function listKey(state: UiState, input: string, key: KeyPress, ctx: KeyContext): KeyResult {
  const index = Math.max(0, ctx.rows.findIndex((r) => r.key === state.selectedKey))
  const moved = move(index, ctx.rows.length, input, key, ctx.pageSize)
  if (moved !== undefined) return {state: {...state, selectedKey: ctx.rows[moved]!.key}}
  if (input === '/') return {state: {...state, prompt: {kind: 'filter', text: state.filter}}}
  if (input === ':') return {state: {...state, prompt: {kind: 'jump', text: ''}}}
  if (input === 's') return {state: {...state, sort: nextSort(state.sort)}}
  if (input === 'S') return {state: {...state, sort: {...state.sort, desc: !state.sort.desc}}}
  if (key.escape) return {state: {...state, filter: ''}}
  if (key.return) {
    const row = ctx.rows[index]
    return row ? {state: openDetail(state, row), effect: {type: 'peek'}} : {state}
  }
  return {state}
}

function detailKey(state: UiState, input: string, key: KeyPress, ctx: KeyContext): KeyResult {
  // Esc clears the message filter first, then goes back
  if (key.escape && state.where) return {state: {...state, where: '', messageIndex: 0}}
  if (key.escape || key.leftArrow || input === 'h') return {state: {...state, view: 'list'}}
  const detail = ctx.detail
  if (!detail) return {state: {...state, view: 'list'}}
  const moved = move(state.messageIndex, ctx.messageCount, input, key, ctx.pageSize)
  if (moved !== undefined) return {state: {...state, messageIndex: moved}}
  if (key.return || key.rightArrow || input === 'l') {
    return ctx.messageCount > 0 ? {state: {...state, view: 'payload', payloadScroll: 0}} : {state}
  }
  if (key.tab || input === 't') {
    const states = detail.peekStates
    const next = states[(states.indexOf(state.peekState) + 1) % states.length] ?? 'waiting'
    return {state: {...state, peekState: next, messageIndex: 0}, effect: {type: 'peek'}}
  }
  if (input === 'r') return {state, effect: {type: 'peek'}}
  if (input === ':') return {state: {...state, prompt: {kind: 'jump', text: ''}}}
  if (input === '/') return {state: {...state, prompt: {kind: 'where', text: state.where}}}
  if (input === 'D' || input === 'R' || input === 'P' || input === 'M') return actionKey(state, input, detail, ctx.filteredIds)
  return {state}
}

/** The target as prompts name it: the whole target (vhost, db, context), so a purge says exactly where it purges. */
const whereOf = (row: QueueRow): string => `"${row.stats.name}" on ${row.target ?? row.source}`

function actionKey(state: UiState, input: 'D' | 'R' | 'P' | 'M', detail: DetailContext, filteredIds: readonly string[] | undefined): KeyResult {
  const {row} = detail
  const base = {brokerIndex: row.brokerIndex, queue: row.stats.name}
  const where = whereOf(row)
  const refused = (what: string, advice?: string): KeyResult => ({
    state: {...state, status: {text: `${where} cannot ${what}${advice ? ` — ${advice}` : ''}`, error: true}},
  })
  if (detail.loading && input !== 'M') return {state: {...state, status: {text: `reading what ${where} can do…`, error: false}}}
  if (state.where && input !== 'P') {
    // never the whole state while a filter is set but not yet applied
    if (!filteredIds) return {state: {...state, status: {text: `the filter ${state.where} is not applied yet: try again`, error: true}}}
    return filteredActionKey(state, input, detail, filteredIds)
  }
  if (input === 'D') {
    const st = detail.purgeStates.includes(state.peekState) ? state.peekState : detail.purgeStates[0]
    if (!st) return {state: {...state, status: {text: `${row.source} cannot purge ${row.stats.name}`, error: true}}}
    const n = row.stats.counts[st]
    const question = `Purge ${n === undefined ? 'all' : n} ${st} message${n === 1 ? '' : 's'} of ${where}?`
    return {state: {...state, confirm: {...base, kind: 'purge', state: st, question}}}
  }
  if (input === 'R') {
    if (!detail.canRetry) return refused('retry messages', detail.advice?.retry)
    const st: MessageState = state.peekState === 'retry' ? 'retry' : 'dead'
    const question = `Retry ${row.stats.counts[st] ?? 'all'} ${st} message(s) of ${where} (back to waiting)?`
    return {state: {...state, confirm: {...base, kind: 'retry', state: st, question}}}
  }
  if (input === 'P') {
    if (!detail.canPause) return refused('be paused', detail.advice?.pause)
    const kind = row.stats.paused ? 'resume' : 'pause'
    // pausing stops no data from being lost: no confirmation, like k9s' scale
    return {state, effect: {type: 'run', action: {...base, kind, question: ''}}}
  }
  if (!detail.canMove) return refused('be consumed by queuectl, so M cannot move its messages', detail.advice?.consume)
  return {state: {...state, prompt: {kind: 'move', text: ''}}}
}

/** D, R and M under the `/` filter: they act on exactly the filtered ids of the state shown, after a question with their count. */
function filteredActionKey(state: UiState, input: 'D' | 'R' | 'M', detail: DetailContext, ids: readonly string[]): KeyResult {
  const {row} = detail
  const st = state.peekState
  const status = (text: string): KeyResult => ({state: {...state, status: {text, error: true}}})
  const verb = input === 'D' ? 'delete' : input === 'R' ? 'retry' : 'move'
  if (ids.length === 0) return status(`no ${st} message matches ${state.where}: nothing to ${verb}`)
  const removable = detail.removeStates ?? []
  if (input === 'D' && !removable.includes(st)) {
    const from = removable.length > 0 ? ` (it can from: ${removable.join(', ')})` : ''
    return status(`${whereOf(row)} cannot delete single ${st} jobs${from}${detail.advice?.remove ? ` — ${detail.advice.remove}` : ''}`)
  }
  if (input === 'R' && !detail.canRetry) return status(`${whereOf(row)} cannot retry messages${detail.advice?.retry ? ` — ${detail.advice.retry}` : ''}`)
  if (input === 'R' && st !== 'dead' && st !== 'retry') return status(`R retries dead or retry jobs: Tab to them, then filter with /`)
  if (input === 'M' && !detail.canMove) return status(`${whereOf(row)} cannot be consumed by queuectl, so M cannot move its messages`)
  if (input === 'M' && st !== 'waiting') return status('M moves waiting messages: Tab to waiting, then filter with /')
  if (input === 'M') return {state: {...state, prompt: {kind: 'move', text: ''}}}
  const n = ids.length
  const question = `${input === 'D' ? 'Delete' : 'Retry'} ${n} filtered ${st} job${n === 1 ? '' : 's'} of ${whereOf(row)}${input === 'R' ? ' (back to waiting)' : ''}?`
  const kind = input === 'D' ? 'purge' : 'retry'
  return {state: {...state, confirm: {brokerIndex: row.brokerIndex, queue: row.stats.name, kind, state: st, ids, where: state.where, question}}}
}

function payloadKey(state: UiState, key: KeyPress, ctx: KeyContext): KeyResult {
  if (key.escape || key.leftArrow || key.return) return {state: {...state, view: 'detail'}}
  const scroll = move(state.payloadScroll, Number.MAX_SAFE_INTEGER, '', key, ctx.pageSize)
  return {state: scroll === undefined ? state : {...state, payloadScroll: scroll}}
}

function confirmKey(state: UiState, action: PendingAction, input: string, key: KeyPress): KeyResult {
  if (input === 'y' || input === 'Y') return {state: {...state, confirm: undefined}, effect: {type: 'run', action}}
  if (input === 'n' || input === 'N' || key.escape || input === 'q') {
    return {state: {...state, confirm: undefined, status: {text: 'cancelled', error: false}}}
  }
  return {state}
}

function promptKey(state: UiState, prompt: NonNullable<UiState['prompt']>, input: string, key: KeyPress, ctx: KeyContext): KeyResult {
  const live = (text: string): UiState => {
    // the list filter applies as it is typed, like k9s; a where expression is checked as it is typed
    if (prompt.kind === 'filter') return {...state, prompt: {...prompt, text}, filter: text}
    if (prompt.kind === 'where') return {...state, prompt: {kind: 'where', text, error: text.trim() ? ctx.checkWhere?.(text) : undefined}}
    return {...state, prompt: {...prompt, text}}
  }
  if (key.escape) return {state: {...state, prompt: undefined, filter: prompt.kind === 'filter' ? '' : state.filter}}
  if (key.backspace || key.delete) return {state: live(prompt.text.slice(0, -1))}
  if (key.return) return promptEnter(state, prompt, ctx)
  if (key.ctrl || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return {state}
  return input ? {state: live(prompt.text + input)} : {state}
}

function promptEnter(state: UiState, prompt: NonNullable<UiState['prompt']>, ctx: KeyContext): KeyResult {
  const text = prompt.text.trim()
  const closed = {...state, prompt: undefined}
  if (prompt.kind === 'filter') return {state: {...closed, filter: text}}
  if (prompt.kind === 'where') {
    // a mistake keeps the prompt open with its column, never applies
    const error = text ? ctx.checkWhere?.(text) : undefined
    if (error) return {state: {...state, prompt: {...prompt, error}}}
    return {state: {...closed, where: text, messageIndex: 0}}
  }
  if (prompt.kind === 'jump') {
    const row = findRow(ctx.allRows, text)
    if (!row) return {state: {...closed, status: {text: `no queue matches "${text}"`, error: true}}}
    return {state: openDetail({...closed, filter: ''}, row), effect: {type: 'peek'}}
  }
  const row = ctx.detail?.row
  if (!row || !text) return {state: closed}
  if (text === row.stats.name) return {state: {...closed, status: {text: 'cannot move a queue onto itself', error: true}}}
  const on = `on ${row.target ?? row.source}`
  if (state.where) {
    if (!ctx.filteredIds) return {state: {...closed, status: {text: `the filter ${state.where} is not applied yet: try again`, error: true}}}
    const n = ctx.filteredIds.length
    const question = `Move ${n} filtered waiting job${n === 1 ? '' : 's'} of "${row.stats.name}" to "${text}" ${on}?`
    return {state: {...closed, confirm: {kind: 'move', brokerIndex: row.brokerIndex, queue: row.stats.name, to: text, ids: ctx.filteredIds, where: state.where, question}}}
  }
  const n = row.stats.counts.waiting
  const question = `Move ${n === undefined ? 'all' : n} waiting message(s) of "${row.stats.name}" to "${text}" ${on}?`
  return {state: {...closed, confirm: {kind: 'move', brokerIndex: row.brokerIndex, queue: row.stats.name, to: text, question}}}
}
