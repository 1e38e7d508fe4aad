// The whole screen and its hooks against the memory broker, driven by keys through
// ink-testing-library: refresh, filter, drill down, peek, purge with confirmation, move, quit.
import {Box, Text} from 'ink'
import {render} from 'ink-testing-library'
import {createElement as h} from 'react'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {Startup, TopApp} from '../../src/tui/app.js'
import {useQueueStats} from '../../src/tui/hooks/use-queue-stats.js'
import {eventually, gatedBroker, memoryBroker} from './gate.js'

// actions are written to the audit log, as by `queue purge`: keep it out of the developer's home
const stateHome = mkdtempSync(join(tmpdir(), 'queuectl-top-'))
const savedStateHome = process.env.XDG_STATE_HOME
beforeAll(() => {
  process.env.XDG_STATE_HOME = stateHome
})
afterAll(() => {
  if (savedStateHome === undefined) delete process.env.XDG_STATE_HOME
  else process.env.XDG_STATE_HOME = savedStateHome
})

const instances: {unmount(): void}[] = []
afterEach(() => {
  for (const i of instances.splice(0)) i.unmount()
})

function mount(element: ReturnType<typeof h>) {
  const instance = render(element)
  instances.push(instance)
  const frame = () => instance.lastFrame() ?? ''
  const press = async (keys: string) => {
    instance.stdin.write(keys)
    // Ink reads input on the next tick; let it render before the next key
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
  return {...instance, frame, press}
}

const ESC = '\u001B'
const ENTER = '\r'

function Probe({broker}: {broker: Broker}) {
  const s = useQueueStats(broker, 100)
  return h(Box, {flexDirection: 'column'}, h(Text, null, `stale=${s.stale} loading=${s.loading} error=${s.error ?? '-'}`), ...s.queues.map((q) => h(Text, {key: q.name}, `${q.name}=${q.counts.waiting}`)))
}

describe('useQueueStats', () => {
  it('re-renders with new counts, and with the error while the broker refuses', async () => {
    const gate = await gatedBroker()
    await gate.inner.enqueue('jobs', [{payload: '1'}])
    const app = mount(h(Probe, {broker: gate.broker}))
    await eventually(() => expect(app.frame()).toContain('jobs=1'))
    expect(app.frame()).toContain('stale=false loading=false')
    await gate.inner.enqueue('jobs', [{payload: '2'}])
    await eventually(() => expect(app.frame()).toContain('jobs=2'))
    gate.mode = 'refuse'
    await eventually(() => expect(app.frame()).toContain('stale=true'))
    expect(app.frame()).toContain('error=connect ECONNREFUSED')
    expect(app.frame()).toContain('jobs=2')
    gate.mode = 'open'
    await eventually(() => expect(app.frame()).toContain('stale=false'))
  })
})

describe('TopApp', () => {
  async function seeded(): Promise<Broker> {
    const broker = await memoryBroker()
    await broker.enqueue('emails', [{payload: '{"to":"a@example.com"}', name: 'send'}, {payload: '{"to":"b@example.com"}', name: 'send'}])
    await broker.enqueue('billing', [{payload: Buffer.from([1, 2, 3])}])
    await broker.enqueue('reports', [{payload: 'plain text'}])
    return broker
  }

  it('lists the queues with totals and a footer, and filters with /', async () => {
    const broker = await seeded()
    const app = mount(h(TopApp, {brokers: [broker], labels: ['mem'], intervalMs: 100}))
    await eventually(() => expect(app.frame()).toContain('emails'))
    const frame = app.frame()
    expect(frame).toContain('queue top  3 queues')
    expect(frame).toMatch(/TOTAL \(3\)\s+4/)
    expect(frame).toMatch(/memory:\/\/tui-\S+  refreshed \d\d:\d\d:\d\d in \d+ms  every 100ms/)
    expect(frame.split('\n').length).toBeLessThan(30)
    await app.press('/')
    await app.press('bill')
    await eventually(() => expect(app.frame()).not.toContain('emails'))
    expect(app.frame()).toContain('billing')
    expect(app.frame()).toContain('(1 shown)')
    await app.press(ESC)
    await eventually(() => expect(app.frame()).toContain('emails'))
  })

  it('drills down into a queue, shows its payload, purges after confirmation, and goes back', async () => {
    const broker = await seeded()
    const app = mount(h(TopApp, {brokers: [broker], labels: ['mem'], intervalMs: 100}))
    await eventually(() => expect(app.frame()).toContain('emails'))
    await app.press(':')
    await app.press('emails')
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toContain('WAITING MESSAGES'))
    await eventually(() => expect(app.frame()).toContain('"to": "a@example.com"'))
    await app.press('j')
    await eventually(() => expect(app.frame()).toContain('"to": "b@example.com"'))
    await app.press('D')
    // the whole target: the context name and its URL (issue 23)
    await eventually(() => expect(app.frame()).toMatch(/Purge 2 waiting messages of "emails" on mem \(memory:\/\/tui-\S+\)\? \[y\/N\]/))
    await app.press('n')
    await eventually(() => expect(app.frame()).toContain('cancelled'))
    expect((await broker.stats('emails')).counts.waiting).toBe(2)
    await app.press('D')
    await app.press('y')
    await eventually(() => expect(app.frame()).toContain('purged 2 waiting messages of "emails"'))
    expect((await broker.stats('emails')).counts.waiting).toBe(0)
    await eventually(() => expect(app.frame()).toContain('no waiting messages'))
    const audit = readFileSync(join(stateHome, 'queuectl', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {command: string; queue: string; counts: {removed?: number}; details: {via: string}})
    expect(audit).toContainEqual(expect.objectContaining({command: 'purge', queue: 'emails', counts: {removed: 2}, details: {state: 'waiting', via: 'top'}}))
    await app.press(ESC)
    await eventually(() => expect(app.frame()).toContain('TOTAL (3)'))
  })

  it('moves waiting messages to another queue after confirmation', async () => {
    const broker = await seeded()
    const app = mount(h(TopApp, {brokers: [broker], labels: ['mem'], intervalMs: 100}))
    await eventually(() => expect(app.frame()).toContain('reports'))
    await app.press(':')
    await app.press('reports')
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toContain('plain text'))
    await app.press('M')
    await app.press('nowhere')
    await app.press(ENTER)
    await app.press('y')
    // like `queue move`, a destination that does not exist is refused before anything moves
    await eventually(() => expect(app.frame()).toContain('move failed: queue "nowhere" not found'))
    expect((await broker.stats('reports')).counts.waiting).toBe(1)
    await broker.createQueue('archive')
    await app.press('M')
    await app.press('archive')
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toMatch(/Move 1 waiting message\(s\) of "reports" to "archive" on mem \(memory:\/\/tui-\S+\)\? \[y\/N\]/))
    await app.press('y')
    await eventually(() => expect(app.frame()).toContain('moved 1 message from "reports" to "archive"'), 15_000)
    expect((await broker.stats('archive')).counts.waiting).toBe(1)
    expect((await broker.peek('archive', {limit: 1}))[0]!.payload.toString()).toBe('plain text')
    expect((await broker.stats('reports')).counts.waiting).toBe(0)
  })

  it('/ on the detail view filters the peeked messages with CEL, and R then D act on exactly the filtered jobs', async () => {
    const broker = await memoryBroker()
    const bodies = [1, 2, 3, 2, 1, 2].map((tenant, i) => ({payload: JSON.stringify({tenant, i}), name: 'bill'}))
    await broker.enqueue('invoices', bodies)
    // every job dead-lettered, as a worker that fails them
    let dead = 0
    const sub = await broker.consume('invoices', (lease) => void lease.deadLetter('boom').then(() => dead++), {prefetch: 6})
    await eventually(() => expect(dead).toBe(6))
    await sub.close()
    const app = mount(h(TopApp, {brokers: [broker], labels: ['mem'], intervalMs: 100}))
    await eventually(() => expect(app.frame()).toContain('invoices'))
    await app.press(':')
    await app.press('invoices')
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toContain('WAITING MESSAGES'))
    // Tab offers the other states once the queue's capabilities are read (a loaded machine is slow to)
    await eventually(() => expect(app.frame()).toContain('Tab state'))
    await app.press('\t')
    await eventually(() => expect(app.frame()).toContain('DELAYED MESSAGES'))
    await app.press('\t')
    await eventually(() => expect(app.frame()).toContain('DEAD MESSAGES'))
    await eventually(() => expect(app.frame()).toContain('"i":5'))
    await app.press('/')
    await app.press('body.tenant ==')
    // a mistake shows with its column in the prompt line, and Enter does not apply it
    await eventually(() => expect(app.frame()).toMatch(/where \(CEL\): body\.tenant ==.*column \d+/))
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toMatch(/where \(CEL\): body\.tenant ==.*column/))
    await app.press(' 2')
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toContain('where body.tenant == 2 (3 of 6 peeked)'))
    expect(app.frame()).not.toContain('"i":0')
    await app.press('R')
    await eventually(() => expect(app.frame()).toMatch(/Retry 3 filtered dead jobs of "invoices" on mem \(memory:\/\/tui-\S+\) \(back to waiting\)\? \[y\/N\]/))
    await app.press('y')
    await eventually(() => expect(app.frame()).toContain('retried 3 messages of "invoices"'))
    const waiting = await broker.peek('invoices', {limit: 10, state: 'waiting'})
    expect(waiting.map((m) => JSON.parse(m.payload.toString()).i).sort()).toEqual([1, 3, 5])
    expect((await broker.stats('invoices')).counts.dead).toBe(3)
    // a new expression (Backspace clears the old one), then D deletes only what it matches
    await app.press('/')
    for (let i = 0; i < 20; i++) await app.press('\u007F')
    await app.press('body.tenant == 1')
    await app.press(ENTER)
    await eventually(() => expect(app.frame()).toContain('where body.tenant == 1 (2 of 3 peeked)'))
    await app.press('D')
    await eventually(() => expect(app.frame()).toMatch(/Delete 2 filtered dead jobs of "invoices"/))
    await app.press('y')
    await eventually(() => expect(app.frame()).toContain('deleted 2 filtered dead jobs of "invoices"'))
    const left = await broker.peek('invoices', {limit: 10, state: 'dead'})
    expect(left.map((m) => JSON.parse(m.payload.toString()).i)).toEqual([2])
    const audit = readFileSync(join(stateHome, 'queuectl', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {command: string; queue: string; counts: Record<string, number>; details: Record<string, unknown>})
    expect(audit).toContainEqual(expect.objectContaining({command: 'retry', queue: 'invoices', counts: {retried: 3, failed: 0, matched: 3}, details: expect.objectContaining({where: 'body.tenant == 2', via: 'top'})}))
    expect(audit).toContainEqual(expect.objectContaining({command: 'purge', queue: 'invoices', counts: {removed: 2, matched: 2}, details: expect.objectContaining({where: 'body.tenant == 1'})}))
  })

  it('keeps the frame shorter than the terminal with many queues, and quits with q', async () => {
    const broker = await memoryBroker()
    for (let i = 0; i < 100; i++) await broker.enqueue(`q${String(i).padStart(3, '0')}`, [{payload: 'x'}])
    const app = mount(h(TopApp, {brokers: [broker], labels: ['mem'], intervalMs: 100}))
    await eventually(() => expect(app.frame()).toContain('TOTAL (100)'))
    // ink-testing-library reports no rows: the app falls back to 30
    expect(app.frame().split('\n').length).toBeLessThanOrEqual(29)
    await app.press('G')
    await eventually(() => expect(app.frame()).toContain('q099'))
    expect(app.frame()).not.toContain('q000')
    await app.press('q')
    // after exit Ink renders no more frames: new data does not show up
    const last = app.frame()
    await broker.enqueue('zzz-new', [{payload: 'x'}])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(app.frame()).toBe(last)
  })

  it('paints a connecting frame until the brokers are open, then the list', async () => {
    const broker = await seeded()
    let open!: (b: Broker[]) => void
    const opening = new Promise<Broker[]>((resolve) => (open = resolve))
    const app = mount(h(Startup, {brokers: opening, displayUrls: ['redis://:***@10.0.0.1:6379'], labels: ['mem'], intervalMs: 100}))
    expect(app.frame()).toContain('connecting to redis://:***@10.0.0.1:6379…')
    open([broker])
    await eventually(() => expect(app.frame()).toContain('TOTAL (3)'))
  })
})
