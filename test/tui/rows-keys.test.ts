// The pure parts of `queue top`: rows (filter, sort, totals), the column layout, the sparkline,
// the payload viewer's text and the key reducer.
import {describe, expect, it} from 'vitest'
import type {Capabilities, QueueStats} from '../../src/broker/contract.js'
import {amqpCapabilities} from '../../src/adapters/amqp/capabilities.js'
import {bullmqCapabilities} from '../../src/adapters/redis/flavors/bullmq.js'
import {celeryCapabilities} from '../../src/adapters/redis/flavors/celery.js'
import {listCapabilities} from '../../src/adapters/redis/flavors/list.js'
import {sidekiqCapabilities} from '../../src/adapters/redis/flavors/sidekiq.js'
import {streamCapabilities} from '../../src/adapters/redis/flavors/stream.js'
import {layoutColumns} from '../../src/tui/columns.js'
import {QueueHistory, sparkline} from '../../src/services/history.js'
import {detailContext, detailHints, initialUiState, reduceKey, splitKeys, type KeyContext, type UiState} from '../../src/tui/keys.js'
import {hexDump, payloadLines} from '../../src/tui/payload.js'
import {filterRows, findRow, formatCount, fullTarget, nextSort, sortRows, totals, type QueueRow} from '../../src/tui/rows.js'

function row(name: string, waiting: number, extra: Partial<QueueStats> = {}, brokerIndex = 0): QueueRow {
  return {
    key: `${brokerIndex}/${name}`,
    brokerIndex,
    source: 'memory://t',
    stats: {name, kind: 'memory', counts: {waiting, inflight: 0, delayed: 0, dead: 0}, ...extra},
    growth: 0,
    depth: [],
    stale: false,
  }
}

const rows = [row('emails', 5), row('billing', 50, {consumers: 2}), row('emails-dlq', 0, {counts: {waiting: 0, dead: 4, retry: 3}})]

describe('rows', () => {
  it('filters by substring, and excludes with !', () => {
    expect(filterRows(rows, 'EMAIL').map((r) => r.stats.name)).toEqual(['emails', 'emails-dlq'])
    expect(filterRows(rows, '!email').map((r) => r.stats.name)).toEqual(['billing'])
    expect(filterRows(rows, '')).toHaveLength(3)
  })

  it('sorts by name ascending and by counts descending, ties by name', () => {
    expect(sortRows(rows, {key: 'name', desc: false}).map((r) => r.stats.name)).toEqual(['billing', 'emails', 'emails-dlq'])
    expect(sortRows(rows, {key: 'waiting', desc: true}).map((r) => r.stats.name)).toEqual(['billing', 'emails', 'emails-dlq'])
    expect(sortRows(rows, {key: 'dead', desc: true})[0]!.stats.name).toBe('emails-dlq')
    expect(nextSort({key: 'name', desc: false})).toEqual({key: 'waiting', desc: true})
  })

  it('totals what brokers report and leaves out what none reports', () => {
    const t = totals(rows)
    expect(t.queues).toBe(3)
    expect(t.counts.waiting).toBe(55)
    expect(t.counts.dead).toBe(7)
    expect(t.consumers).toBe(2)
    expect(t.inPerSec).toBeUndefined()
  })

  it('finds a queue for : jump by exact name, then prefix, then substring', () => {
    expect(findRow(rows, 'emails')!.stats.name).toBe('emails')
    expect(findRow(rows, 'bill')!.stats.name).toBe('billing')
    expect(findRow(rows, 'dlq')!.stats.name).toBe('emails-dlq')
    expect(findRow(rows, 'nothing')).toBeUndefined()
  })

  it('formats counts to fit narrow columns', () => {
    expect(formatCount(9999)).toBe('9999')
    expect(formatCount(12_345)).toBe('12.3k')
    expect(formatCount(4_500_000)).toBe('4.5M')
    expect(formatCount(undefined)).toBe('-')
  })
})

describe('columns and sparklines', () => {
  it('the BROKER column is as wide as its longest label (within bounds), the QUEUE column takes the rest (issue 23)', () => {
    const cols = layoutColumns(140, true, 'redis://127.0.0.1:6379'.length)
    expect(cols.find((c) => c.id === 'source')!.width).toBe(22)
    expect(cols.find((c) => c.id === 'name')!.width).toBeGreaterThanOrEqual(12)
    expect(cols.reduce((n, c) => n + c.width + 1, -1)).toBeLessThanOrEqual(140)
    expect(layoutColumns(140, true, 200).find((c) => c.id === 'source')!.width).toBe(28)
    expect(layoutColumns(140, true, 2).find((c) => c.id === 'source')!.width).toBe(6)
  })

  it('the full target of a row names the context and the URL with its vhost or db (issue 23)', () => {
    expect(fullTarget('prod', 'amqp://ops:***@rabbit:5672/orders')).toBe('prod (amqp://ops:***@rabbit:5672/orders)')
    expect(fullTarget('amqp://rabbit:5672', 'amqp://ops:***@rabbit:5672/orders')).toBe('amqp://ops:***@rabbit:5672/orders')
    expect(fullTarget(undefined, 'redis://127.0.0.1:6379/13')).toBe('redis://127.0.0.1:6379/13')
  })

  it('drops the least useful columns first on a narrow terminal', () => {
    const wide = layoutColumns(140, false).map((c) => c.id)
    const narrow = layoutColumns(50, false).map((c) => c.id)
    expect(wide).toContain('trend')
    expect(narrow).not.toContain('trend')
    expect(narrow).toContain('name')
    expect(narrow).toContain('waiting')
    const used = layoutColumns(50, false).reduce((n, c) => n + c.width + 1, -1)
    expect(used).toBeLessThanOrEqual(50)
  })

  it('draws the last values scaled to the max', () => {
    expect(sparkline([0, 7], 2)).toBe('▁█')
    expect(sparkline([], 3)).toBe('   ')
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 4)).toBe('▂▄▆█')
  })

  it('keeps a bounded history and reports growth', () => {
    const h = new QueueHistory(3)
    for (let i = 0; i < 5; i++) h.record([{name: 'q', kind: 'memory', counts: {waiting: i * 10}}], i)
    expect(h.series('q')).toEqual([20, 30, 40])
    expect(h.growth('q')).toBe(20)
    h.record([], 6)
    expect(h.series('q')).toEqual([])
  })
})

describe('payload viewer', () => {
  const message = (payload: Buffer, contentType?: string) => ({id: '1', queue: 'q', payload, contentType, headers: {}, attempts: 0, state: 'waiting' as const})

  it('pretty-prints JSON', () => {
    const out = payloadLines(message(Buffer.from('{"a":1,"b":[2]}')))
    expect(out.kind).toBe('json')
    expect(out.lines).toEqual(['{', '  "a": 1,', '  "b": [', '    2', '  ]', '}'])
  })

  it('shows binary and control characters as a hex dump', () => {
    const out = payloadLines(message(Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x00])))
    expect(out.kind).toBe('binary')
    expect(out.lines[0]).toBe(`00000000  ${'1b 5b 32 4a ff 00'.padEnd(47)}  .[2J..`)
    expect(hexDump(Buffer.alloc(40), 16)).toHaveLength(2)
  })
})

describe('keys', () => {
  const ctx = (extra: Partial<KeyContext> = {}): KeyContext => ({rows, allRows: rows, pageSize: 10, messageCount: 0, ...extra})
  const press = (state: UiState, input: string, key = {}, c = ctx()) => reduceKey(state, input, key, c)

  it('filters live as the user types, Esc clears', () => {
    let s = press(initialUiState, '/').state
    for (const ch of 'dlq') s = press(s, ch).state
    expect(s.filter).toBe('dlq')
    expect(press(s, '', {return: true}).state.prompt).toBeUndefined()
    expect(press(s, '', {escape: true}).state.filter).toBe('')
    expect(press(s, '', {delete: true}).state.filter).toBe('dl')
  })

  it('moves the selection, opens a queue with Enter and goes back with Esc', () => {
    let s = press({...initialUiState, selectedKey: rows[0]!.key}, 'j').state
    expect(s.selectedKey).toBe(rows[1]!.key)
    const opened = press(s, '', {return: true})
    expect(opened.effect).toEqual({type: 'peek'})
    expect(opened.state.view).toBe('detail')
    expect(opened.state.detailKey).toBe(rows[1]!.key)
    s = press(opened.state, '', {escape: true}, ctx({detail: {row: rows[1]!, peekStates: ['waiting'], purgeStates: ['waiting'], canRetry: false, canPause: false, canMove: true}})).state
    expect(s.view).toBe('list')
  })

  it('jumps to a queue with :', () => {
    let s = press(initialUiState, ':').state
    for (const ch of 'bill') s = press(s, ch).state
    const r = press(s, '', {return: true})
    expect(r.state.view).toBe('detail')
    expect(r.state.detailKey).toBe('0/billing')
    const miss = press(press(initialUiState, ':').state, 'x')
    expect(press(miss.state, '', {return: true}).state.status).toEqual({text: 'no queue matches "x"', error: true})
  })

  it('asks before purging and runs only on y', () => {
    const detail = {row: rows[1]!, peekStates: ['waiting' as const], purgeStates: ['waiting' as const], canRetry: true, canPause: false, canMove: true}
    const inDetail: UiState = {...initialUiState, view: 'detail', detailKey: rows[1]!.key}
    const asked = press(inDetail, 'D', {}, ctx({detail}))
    expect(asked.effect).toBeUndefined()
    expect(asked.state.confirm?.question).toBe('Purge 50 waiting messages of "billing" on memory://t?')
    expect(press(asked.state, 'n', {}, ctx({detail})).effect).toBeUndefined()
    const yes = press(asked.state, 'y', {}, ctx({detail}))
    expect(yes.effect).toMatchObject({type: 'run', action: {kind: 'purge', queue: 'billing', state: 'waiting'}})
    expect(press(inDetail, 'P', {}, ctx({detail})).state.status?.error).toBe(true)
  })

  it('asks for a target, then confirmation, before moving', () => {
    const detail = {row: rows[0]!, peekStates: ['waiting' as const], purgeStates: [], canRetry: false, canPause: false, canMove: true}
    let s = press({...initialUiState, view: 'detail', detailKey: rows[0]!.key}, 'M', {}, ctx({detail})).state
    expect(s.prompt?.kind).toBe('move')
    for (const ch of 'later') s = press(s, ch, {}, ctx({detail})).state
    s = press(s, '', {return: true}, ctx({detail})).state
    expect(s.confirm).toMatchObject({kind: 'move', queue: 'emails', to: 'later'})
  })

  it('/ on the detail view filters messages with CEL: a mistake stays in the prompt with its column, never applies', async () => {
    const {loadWhereCompiler} = await import('../../src/services/find/expression.js')
    const compile = await loadWhereCompiler()
    const checkWhere = (t: string) => {
      const c = compile(t)
      return 'error' in c ? c.error : undefined
    }
    const detail = {row: rows[1]!, peekStates: ['waiting' as const, 'dead' as const], purgeStates: ['waiting' as const], canRetry: true, canPause: false, canMove: true}
    const c = ctx({detail, checkWhere})
    let s = press({...initialUiState, view: 'detail', detailKey: rows[1]!.key}, '/', {}, c).state
    expect(s.prompt?.kind).toBe('where')
    for (const ch of 'body.n ==') s = press(s, ch, {}, c).state
    expect(s.prompt?.error).toMatch(/at column \d+/)
    const refused = press(s, '', {return: true}, c).state
    expect(refused.prompt?.error).toMatch(/column/)
    expect(refused.where).toBe('')
    // a type mistake too: the expression must give true or false
    expect(checkWhere('attempts + 1')).toBe('"attempts + 1": the expression gives an int, not true or false')
    for (const ch of ' 2') s = press(s, ch, {}, c).state
    expect(s.prompt?.error).toBeUndefined()
    s = press(s, '', {return: true}, c).state
    expect(s.prompt).toBeUndefined()
    expect(s.where).toBe('body.n == 2')
    // Esc clears the filter before it leaves the queue
    const cleared = press(s, '', {escape: true}, c).state
    expect(cleared.where).toBe('')
    expect(cleared.view).toBe('detail')
    expect(press(cleared, '', {escape: true}, c).state.view).toBe('list')
    // another queue opened starts unfiltered
    const other = press({...s, view: 'list', selectedKey: rows[0]!.key}, '', {return: true}, c).state
    expect(other.detailKey).toBe(rows[0]!.key)
    expect(other.where).toBe('')
  })

  it('bulk keys under the filter act on exactly the filtered ids, after a question with their count', () => {
    const detail = {row: rows[2]!, peekStates: ['waiting' as const, 'dead' as const], purgeStates: ['waiting' as const, 'dead' as const], removeStates: ['dead' as const], canRetry: true, canPause: false, canMove: true}
    const dead: UiState = {...initialUiState, view: 'detail', detailKey: rows[2]!.key, peekState: 'dead', where: 'body.n == 2'}
    const ids = ['7', '9']
    const retry = press(dead, 'R', {}, ctx({detail, filteredIds: ids})).state
    expect(retry.confirm).toMatchObject({kind: 'retry', state: 'dead', ids, where: 'body.n == 2', question: 'Retry 2 filtered dead jobs of "emails-dlq" on memory://t (back to waiting)?'})
    expect(press(retry, 'y', {}, ctx({detail})).effect).toMatchObject({type: 'run', action: {kind: 'retry', ids}})
    const del = press(dead, 'D', {}, ctx({detail, filteredIds: ['7']})).state
    expect(del.confirm).toMatchObject({kind: 'purge', state: 'dead', ids: ['7'], question: 'Delete 1 filtered dead job of "emails-dlq" on memory://t?'})
    // never the whole state: no match, a state single jobs cannot be deleted from, a filter not applied yet
    expect(press(dead, 'R', {}, ctx({detail, filteredIds: []})).state.status).toEqual({text: 'no dead message matches body.n == 2: nothing to retry', error: true})
    const waiting = {...dead, peekState: 'waiting' as const}
    expect(press(waiting, 'D', {}, ctx({detail, filteredIds: ids})).state.status?.text).toBe('"emails-dlq" on memory://t cannot delete single waiting jobs (it can from: dead)')
    expect(press(waiting, 'R', {}, ctx({detail, filteredIds: ids})).state.confirm).toBeUndefined()
    expect(press(dead, 'D', {}, ctx({detail})).state.confirm).toBeUndefined()
    // M under the filter moves the filtered waiting jobs
    let m = press(waiting, 'M', {}, ctx({detail, filteredIds: ids})).state
    for (const ch of 'later') m = press(m, ch, {}, ctx({detail, filteredIds: ids})).state
    m = press(m, '', {return: true}, ctx({detail, filteredIds: ids})).state
    expect(m.confirm).toMatchObject({kind: 'move', to: 'later', ids, question: 'Move 2 filtered waiting jobs of "emails-dlq" to "later" on memory://t?'})
  })

  it('quits with q and ctrl-c, pauses with p, and any key closes the help', () => {
    expect(press(initialUiState, 'q').effect).toEqual({type: 'quit'})
    expect(press(initialUiState, 'c', {ctrl: true}).effect).toEqual({type: 'quit'})
    expect(press(initialUiState, 'p').state.paused).toBe(true)
    const help = press(initialUiState, '?').state
    expect(help.help).toBe(true)
    const closed = press(help, 'q')
    expect(closed.state.help).toBe(false)
    expect(closed.effect).toBeUndefined()
  })

  it('splits a burst of typed keys into single presses, Enter included', () => {
    expect(splitKeys('ab\r', {})).toEqual([['a', {}], ['b', {}], ['', {return: true}]])
    expect(splitKeys('x', {})).toEqual([['x', {}]])
    expect(splitKeys('[A', {escape: true})).toEqual([['[A', {escape: true}]])
    let s = press(initialUiState, '/').state
    for (const [ch, key] of splitKeys('dlq\r', {})) s = press(s, ch, key).state
    expect(s.prompt).toBeUndefined()
    expect(s.filter).toBe('dlq')
  })
})

describe('keys follow the selected queue\'s own capabilities', () => {
  const redisRow = (name: string, kind: string, extra: Partial<QueueStats> = {}): QueueRow => ({
    ...row(`${kind}:${name}`, 3),
    source: 'redis://t',
    stats: {name: `${kind}:${name}`, kind, counts: {waiting: 3, dead: 1}, ...extra},
  })
  const list = redisRow('jobs', 'list')
  const bull = redisRow('emails', 'bullmq')
  const sidekiq = redisRow('default', 'sidekiq')
  const stream = redisRow('events', 'stream')
  const celery = redisRow('celery', 'celery')
  const all = [list, bull, sidekiq, stream, celery]
  const at = (r: QueueRow, caps: Capabilities | undefined) => ({
    state: {...initialUiState, view: 'detail' as const, detailKey: r.key, selectedKey: r.key},
    ctx: {rows: all, allRows: all, pageSize: 10, messageCount: 0, detail: detailContext(r, caps)} satisfies KeyContext,
  })
  const press = (r: QueueRow, caps: Capabilities | undefined, input: string) => {
    const {state, ctx} = at(r, caps)
    return reduceKey(state, input, {}, ctx)
  }

  it('P pauses a bullmq queue and is neither offered nor accepted on a list or sidekiq queue, with the advice', () => {
    expect(press(bull, bullmqCapabilities, 'P').effect).toMatchObject({type: 'run', action: {kind: 'pause', queue: 'bullmq:emails'}})
    expect(press({...bull, stats: {...bull.stats, paused: true}}, bullmqCapabilities, 'P').effect).toMatchObject({action: {kind: 'resume'}})
    expect(detailHints(at(bull, bullmqCapabilities).ctx.detail)).toMatch(/P pause queue/)
    for (const [r, caps] of [[list, listCapabilities], [sidekiq, sidekiqCapabilities]] as const) {
      const refused = press(r, caps, 'P')
      expect(refused.effect).toBeUndefined()
      expect(refused.state.status).toEqual({text: `"${r.stats.name}" on redis://t cannot be paused — ${caps.advice!.pause}`, error: true})
      expect(detailHints(at(r, caps).ctx.detail)).not.toMatch(/\bP\b/)
    }
  })

  it('R is offered where the queue retries (list, sidekiq) and refused on stream and celery queues', () => {
    expect(press(list, listCapabilities, 'R').state.confirm).toMatchObject({kind: 'retry', state: 'dead'})
    expect(press(sidekiq, sidekiqCapabilities, 'R').state.confirm).toMatchObject({kind: 'retry'})
    for (const [r, caps] of [[stream, streamCapabilities], [celery, celeryCapabilities]] as const) {
      const refused = press(r, caps, 'R')
      expect(refused.state.confirm).toBeUndefined()
      expect(refused.state.status?.error).toBe(true)
      expect(refused.state.status?.text).toContain(caps.advice!.retry!)
      expect(detailHints(at(r, caps).ctx.detail)).not.toMatch(/R retry/)
    }
  })

  it('M is offered where queuectl consumes the queue (list) and refused on sidekiq and celery queues, with the advice', () => {
    expect(press(list, listCapabilities, 'M').state.prompt?.kind).toBe('move')
    expect(detailHints(at(list, listCapabilities).ctx.detail)).toMatch(/M move/)
    for (const [r, caps] of [[sidekiq, sidekiqCapabilities], [celery, celeryCapabilities]] as const) {
      const refused = press(r, caps, 'M')
      expect(refused.state.prompt).toBeUndefined()
      expect(refused.state.status).toEqual({text: `"${r.stats.name}" on redis://t cannot be consumed by queuectl, so M cannot move its messages — ${caps.advice!.consume}`, error: true})
      expect(detailHints(at(r, caps).ctx.detail)).not.toMatch(/M move/)
    }
  })

  it('R moves back from a dead-letter queue only where the queue names one', () => {
    const amqp = {...row('orders', 1), stats: {name: 'orders', kind: 'amqp', counts: {waiting: 1}}}
    const base = amqpCapabilities({queueType: 'classic', mgmt: true, delayedExchange: false, maxMessageBytes: 1e6})
    expect(detailContext(amqp, {...base, deadLetterQueue: 'orders.dlq'}).canRetry).toBe(true)
    expect(detailContext(amqp, base).canRetry).toBe(false)
  })

  it('peek states and purge states are the queue\'s own', () => {
    expect(detailContext(bull, bullmqCapabilities).peekStates).toEqual(['waiting', 'delayed', 'dead', 'inflight', 'completed'])
    expect(detailContext(celery, celeryCapabilities)).toMatchObject({peekStates: ['waiting', 'inflight'], purgeStates: ['waiting']})
  })

  it('until the queue\'s capabilities are read, its action keys wait and none is offered', () => {
    const waiting = press(bull, undefined, 'P')
    expect(waiting.effect).toBeUndefined()
    expect(waiting.state.status).toMatchObject({error: false, text: expect.stringMatching(/reading what/)})
    expect(press(bull, undefined, 'R').state.confirm).toBeUndefined()
    expect(detailHints(at(bull, undefined).ctx.detail)).not.toMatch(/[DRP] (purge|retry|pause)/)
  })
})
