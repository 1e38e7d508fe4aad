// The flavored-broker kit (src/broker/kit/flavored.ts) on its own, over a table of two toy flavors
// kept in Maps: what Redis, PostgreSQL (and Kafka next) inherit from it.
import {describe, expect, it} from 'vitest'
import type {Capabilities, QueueStats, Subscription} from '../../src/broker/contract.js'
import {DRIVEN_QUEUE} from '../../src/broker/capabilities.js'
import {FlavoredBroker, type Flavor, type FlavorHost, type Located} from '../../src/broker/kit/flavored.js'

type Ctx = {queues: Map<string, Set<string>>}

const caps = (over: Partial<Capabilities>): Capabilities => ({
  ...DRIVEN_QUEUE, listQueues: true, peek: 'exact', delay: false, priority: false, deadLetter: false, leaseExpiry: false,
  rates: false, states: ['waiting'], purgeStates: ['waiting'], dedup: false, groups: false, retry: false, pause: false, ...over,
})

function flavor(kind: string, over: Partial<Flavor<Ctx>> = {}): Flavor<Ctx> {
  return {
    kind,
    description: kind,
    capabilities: caps({advice: {pause: `${kind} has no pause`}}),
    stats: async (_ctx, name): Promise<QueueStats> => ({name, kind: 'x', counts: {waiting: 0}}),
    peek: async () => [],
    purge: async () => 0,
    ...over,
  }
}

function toy(): {broker: FlavoredBroker<Ctx, Flavor<Ctx>>; ctx: Ctx; closed: string[]} {
  const ctx: Ctx = {queues: new Map([['a', new Set(['jobs', 'both'])], ['b', new Set(['both'])]])}
  const closed: string[] = []
  const sub = (name: string): Subscription => ({closed: new Promise(() => {}), close: async () => void closed.push(name)})
  const a = flavor('a', {consume: async (_c, name) => sub(name), create: async (c, name) => void c.queues.get('a')!.add(name)})
  const b = flavor('b')
  const host: FlavorHost<Ctx, Flavor<Ctx>> = {
    transport: 'toy', displayUrl: 'toy://h', server: 'Toy', flavors: [a, b],
    connect: async () => {}, disconnect: async () => void closed.push('connection'),
    contextOf: () => ctx, run: (work) => work(), defaultFlavor: () => a,
    detect: async (name) => ({found: [a, b].filter((f) => ctx.queues.get(f.kind)!.has(name)).map((f) => ({flavor: f, name}))}),
    absent: (_name, forWrite) => (forWrite ? a : undefined),
    discover: async () => ({found: [a, b].flatMap((f) => [...ctx.queues.get(f.kind)!].map((name): Located<Flavor<Ctx>> => ({flavor: f, name})))}),
  }
  return {broker: new FlavoredBroker(host), ctx, closed}
}

describe('FlavoredBroker', () => {
  it('resolves kind:name and bare names, and names the queue kind:name in what it returns', async () => {
    const {broker} = toy()
    expect(await broker.stats('jobs')).toMatchObject({name: 'a:jobs', kind: 'a'})
    expect(await broker.stats('b:both')).toMatchObject({name: 'b:both', kind: 'b'})
    expect(await broker.listQueues()).toEqual([{name: 'a:both', kind: 'a'}, {name: 'a:jobs', kind: 'a'}, {name: 'b:both', kind: 'b'}])
  })

  it('a bare name two flavors have is ambiguous; an unknown one is not found, with suggestions', async () => {
    const {broker} = toy()
    await expect(broker.stats('both')).rejects.toMatchObject({exitCode: 2, message: 'queue "both" is ambiguous on toy://h: it matches a:both, b:both — name one of them with its kind'})
    await expect(broker.stats('job')).rejects.toMatchObject({exitCode: 4})
    await expect(broker.stats('a:')).rejects.toMatchObject({exitCode: 2, message: '"a:" names no queue — write a:NAME'})
  })

  it('a write to a new bare name goes to the flavor the host names; EnqueueOptions.flavor must be one of the table', async () => {
    const {broker, ctx} = toy()
    await broker.createQueue('fresh')
    expect(ctx.queues.get('a')!.has('fresh')).toBe(true)
    await expect(broker.enqueue('q', [], {flavor: 'c'})).rejects.toMatchObject({exitCode: 4, message: 'the Toy adapter has no "c" flavor — it knows: a, b'})
    await expect(broker.enqueue('b:q', [], {flavor: 'a'})).rejects.toMatchObject({exitCode: 2})
  })

  it("a flavor's missing method is refused with its advice and the queue's name", async () => {
    const {broker} = toy()
    await expect(broker.pause('jobs')).rejects.toMatchObject({exitCode: 4, message: 'a queue "jobs" on toy://h cannot be paused or resumed — a has no pause'})
    await expect(broker.consume('b:both', () => {}, {prefetch: 1})).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/^b queue "both" on toy:\/\/h cannot be consumed/)})
  })

  it('close() closes the subscriptions still open, then the connection; a closed broker refuses', async () => {
    const {broker, closed} = toy()
    const one = await broker.consume('jobs', () => {}, {prefetch: 1})
    await broker.consume('a:both', () => {}, {prefetch: 1})
    await one.close()
    await broker.close()
    expect(closed).toEqual(['jobs', 'both', 'connection'])
    await expect(broker.stats('jobs')).rejects.toMatchObject({exitCode: 2, message: 'the connection to toy://h is closed'})
  })
})
