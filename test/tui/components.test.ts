// The pure components rendered with ink-testing-library: what the user reads on the screen.
import {render} from 'ink-testing-library'
import {createElement as h} from 'react'
import {afterEach, describe, expect, it} from 'vitest'
import type {Message} from '../../src/broker/contract.js'
import {clock, Footer} from '../../src/tui/components/footer.js'
import {Help} from '../../src/tui/components/help.js'
import {PayloadView, QueueDetail} from '../../src/tui/components/queue-detail.js'
import {QueueList, scrollOffset} from '../../src/tui/components/queue-list.js'
import {QueueHistory} from '../../src/services/history.js'
import type {BrokerSnapshot} from '../../src/services/poller.js'
import {totals, type QueueRow} from '../../src/tui/rows.js'

const instances: {unmount(): void}[] = []
afterEach(() => {
  for (const i of instances.splice(0)) i.unmount()
})
function show(element: ReturnType<typeof h>): string {
  const instance = render(element)
  instances.push(instance)
  return instance.lastFrame() ?? ''
}

function row(i: number, extra: Partial<QueueRow> = {}): QueueRow {
  const name = `queue-${String(i).padStart(3, '0')}`
  return {
    key: `0/${name}`,
    brokerIndex: 0,
    source: 'redis://127.0.0.1:6379',
    stats: {name, kind: 'list', counts: {waiting: i * 10, inflight: 1, delayed: 0, dead: i % 2}, consumers: 2, oldestAgeMs: 90_000, rates: {inPerSec: 1.5, outPerSec: 12}},
    growth: 0,
    depth: [0, 5, 10],
    stale: false,
    ...extra,
  }
}

describe('QueueList', () => {
  const rows = Array.from({length: 50}, (_, i) => row(i))

  it('shows a header, the rows that fit and a totals row', () => {
    const frame = show(h(QueueList, {rows, totals: totals(rows), selectedKey: rows[0]!.key, sort: {key: 'waiting', desc: true}, width: 100, height: 10, showSource: false}))
    const lines = frame.split('\n')
    expect(lines).toHaveLength(12)
    expect(lines[0]).toMatch(/^QUEUE\s+KIND\s+WAIT↓\s+INFL\s+DELAY\s+DEAD\s+CONS\s+IN\/s\s+OUT\/s\s+OLDEST/)
    expect(lines[1]).toMatch(/^queue-000\s+list\s+0\s+1\s+0\s+0\s+2\s+1\.5\s+12\s+1m30s/)
    expect(lines[11]).toMatch(/^TOTAL \(50\)\s+12\.3k\s+50\s+0\s+25\s+100/)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100)
  })

  it('scrolls to keep the selection visible', () => {
    expect(scrollOffset(50, 40, 10)).toBe(35)
    expect(scrollOffset(50, 49, 10)).toBe(40)
    expect(scrollOffset(5, 4, 10)).toBe(0)
    const frame = show(h(QueueList, {rows, totals: totals(rows), selectedKey: rows[45]!.key, sort: {key: 'name', desc: false}, width: 100, height: 10, showSource: false}))
    expect(frame).toContain('queue-045')
    expect(frame).not.toContain('queue-000')
  })

  it('fits a narrow terminal by dropping columns', () => {
    const frame = show(h(QueueList, {rows: rows.slice(0, 3), totals: totals(rows.slice(0, 3)), sort: {key: 'name', desc: false}, width: 40, height: 5, showSource: true}))
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(40)
    expect(frame).toContain('queue-001')
    expect(frame).not.toContain('KIND')
  })

  it('shows a broker column with several brokers, and why the list is empty', () => {
    expect(show(h(QueueList, {rows: rows.slice(0, 1), totals: totals(rows), sort: {key: 'name', desc: false}, width: 120, height: 5, showSource: true}))).toContain('BROKER')
    expect(show(h(QueueList, {rows: [], totals: totals([]), sort: {key: 'name', desc: false}, width: 80, height: 5, showSource: false, emptyText: 'no queue matches "x"'}))).toContain(
      'no queue matches "x"',
    )
  })

  it('never lets a control character from a queue name reach the terminal', () => {
    const evil = row(1, {stats: {...row(1).stats, name: 'bad\u001B[2Jname'}})
    const frame = show(h(QueueList, {rows: [evil], totals: totals([evil]), sort: {key: 'name', desc: false}, width: 100, height: 5, showSource: false}))
    expect(frame).toContain('bad\\x1b[2Jname') // escaped as every human output does (kernel/terminal.ts)
    expect(frame).not.toContain('\u001B[2J')
  })
})

describe('Footer', () => {
  const snapshot = (patch: Partial<BrokerSnapshot>): BrokerSnapshot => ({
    displayUrl: 'redis://:***@127.0.0.1:6379',
    transport: 'redis',
    queues: [],
    history: new QueueHistory(),
    stale: false,
    loading: false,
    version: 1,
    ...patch,
  })

  it('shows the redacted URL, the last refresh time and its latency', () => {
    const at = Date.UTC(2026, 0, 1, 12, 30, 5)
    const frame = show(h(Footer, {snapshots: [snapshot({lastRefreshAt: at, latencyMs: 12})], intervalMs: 1000, paused: false, maxLines: 3, width: 120}))
    expect(frame).toContain(`redis://:***@127.0.0.1:6379  refreshed ${clock(at)} in 12ms  every 1.0s`)
  })

  it('shows a stale broker with its error, and folds extra brokers into one line', () => {
    const snapshots = [snapshot({stale: true, error: 'connect ECONNREFUSED', lastRefreshAt: 0, latencyMs: 3}), snapshot({}), snapshot({}), snapshot({stale: true})]
    const frame = show(h(Footer, {snapshots, intervalMs: 2000, paused: true, maxLines: 3, width: 150}))
    const lines = frame.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/STALE \(refreshed .* in 3ms\) — connect ECONNREFUSED/)
    expect(lines[0]).toContain('PAUSED')
    expect(lines[2]).toBe('+2 more brokers (1 stale)')
  })
})

describe('QueueDetail and PayloadView', () => {
  const message = (i: number, payload: string | Buffer): Message => ({
    id: `id-${i}`,
    queue: 'queue-003',
    name: 'send',
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    headers: {trace: 'abc'},
    attempts: 2,
    state: 'dead',
    enqueuedAt: 1000,
    lastError: 'boom\nstack',
  })

  it('shows counts by state over time, the peeked messages and the selected payload', () => {
    const frame = show(
      h(QueueDetail, {
        row: row(3),
        series: {waiting: [0, 10, 30], dead: [0, 1, 1]},
        peek: {state: 'dead', messages: [message(1, '{"to":"a@b.c"}'), message(2, Buffer.from([0, 255]))], loading: false},
        messageIndex: 0,
        width: 100,
        height: 24,
        now: 61_000,
      }),
    )
    expect(frame).toContain('queue-003 (list) on redis://127.0.0.1:6379')
    expect(frame).toMatch(/waiting\s+30 /)
    expect(frame).toMatch(/dead\s+1 /)
    expect(frame).toContain('DEAD MESSAGES')
    expect(frame).toMatch(/id-1\s+send\s+2\s+1m00s \{"to":"a@b.c"\}/)
    expect(frame).toContain('<binary 2B 00ff')
    expect(frame).toContain('last error: boom')
    expect(frame).toContain('"to": "a@b.c"')
    expect(frame.split('\n').length).toBeLessThanOrEqual(24)
  })

  it('shows the workers pane: live, busy, stale, the first three workers, escaped, within the height', () => {
    const worker = (n: number, extra = {}) => ({kind: 'sidekiq', name: `host:${n}:abc`, host: 'web-1', pid: 100 + n, queues: ['sidekiq:default'], busy: 1, concurrency: 5, lastSeenAt: 55_000, ...extra})
    const workers = [worker(1), worker(2, {stale: true, lastSeenAt: 0}), worker(3, {name: 'evil\u001b[2Jname'}), worker(4)]
    const frame = show(
      h(QueueDetail, {
        row: row(3, {stats: {...row(3).stats, workers}}),
        series: {waiting: [0, 10, 30]},
        peek: {state: 'waiting', messages: [], loading: false},
        messageIndex: 0,
        width: 100,
        height: 16,
        now: 61_000,
      }),
    )
    expect(frame).toMatch(/WORKERS 3\s+busy 3\s+stale 1\s+\(first 3/)
    expect(frame).toMatch(/host:1:abc\s+web-1\s+101\s+1\/5 beat 6.0s ago/)
    expect(frame).toMatch(/host:2:abc .*STALE beat 1m01s ago/)
    expect(frame).not.toContain('\u001b[2J')
    expect(frame).not.toContain('host:4:abc')
    expect(frame.split('\n').length).toBeLessThanOrEqual(16)
    const without = show(h(QueueDetail, {row: row(3), series: {waiting: [0]}, peek: {state: 'waiting', messages: [], loading: false}, messageIndex: 0, width: 100, height: 16, now: 61_000}))
    expect(without).not.toContain('WORKERS')
  })

  it('scrolls a long payload in the payload view and shows binary as hex', () => {
    const long = JSON.stringify(Object.fromEntries(Array.from({length: 40}, (_, i) => [`k${i}`, i])))
    const frame = show(h(PayloadView, {message: message(1, long), scroll: 10, height: 12, width: 80, now: 2000}))
    expect(frame).toContain('lines 11-')
    expect(frame).toContain('"k9": 9')
    expect(frame).not.toContain('"k0": 0')
    expect(frame.split('\n').length).toBeLessThanOrEqual(12)
    const bin = show(h(PayloadView, {message: message(2, Buffer.from([0xde, 0xad, 0xbe, 0xef])), scroll: 0, height: 10, width: 80, now: 2000}))
    expect(bin).toContain('payload (binary')
    expect(bin).toContain('00000000  de ad be ef')
  })

  it('lists every key in the help', () => {
    const frame = show(h(Help, {width: 100, height: 40}))
    for (const k of ['/', ':', 's  S', 'Enter', 'Esc', 'D', 'R', 'M', 'q  ctrl-c']) expect(frame).toContain(k)
  })
})
