// inspect's logic on the memory broker, in process: thresholds, suggestions, peeking by state.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../src/broker/contract.js'
import {openBroker} from '../../src/adapters/registry.js'
import {checkThresholds, peekMessages, statsOfAll} from '../../src/services/inspect.js'
import {checkOptions, sendInBatches} from '../../src/services/enqueue.js'

let broker: Broker
beforeAll(async () => {
  broker = await openBroker('memory://inspect-unit?maxAttempts=2&leaseMs=100', {timeoutMs: 1000})
})
afterAll(() => broker.close())

describe('inspect on memory', () => {
  it('lists every queue with counts and applies thresholds', async () => {
    await broker.enqueue('emails', [{payload: '{"a":1}'}, {payload: '{"a":2}'}, {payload: 'x', delayMs: 60_000}])
    await broker.enqueue('orders', [{payload: 'o'}])
    await new Promise((r) => setTimeout(r, 30))
    const {stats} = await statsOfAll(broker)
    expect(stats.map((s) => s.name)).toEqual(['emails', 'orders'])
    expect(stats[0]!.counts).toMatchObject({waiting: 2, delayed: 1, inflight: 0, dead: 0})
    expect(checkThresholds(stats, {maxDepth: 3})).toEqual([])
    expect(checkThresholds(stats, {maxDepth: 2})).toEqual(['emails: depth 3 is over --max-depth 2'])
    expect(checkThresholds(stats, {maxAgeMs: 10})[0]).toMatch(/emails: oldest message is .* old, over --max-age/)
  })

  it('suggests near names for a missing queue', async () => {
    await expect(broker.stats('email')).rejects.toThrow(/queue "email" not found on memory:\/\/inspect-unit — did you mean: emails\?/)
  })

  it('dead-letters after maxAttempts and peeks dead messages with their last error', async () => {
    await broker.enqueue('flaky', [{payload: 'boom'}])
    let deliveries = 0
    const sub = await broker.consume('flaky', (lease: Lease) => {
      deliveries++
      void lease.nack()
    }, {prefetch: 1})
    while ((await broker.stats('flaky')).counts.dead !== 1) await new Promise((r) => setTimeout(r, 10))
    await sub.close()
    expect(deliveries).toBe(2)
    const stats = await broker.stats('flaky')
    expect(stats.counts.dead).toBe(1)
    expect(checkThresholds([stats], {maxDead: 0})).toEqual(['flaky: 1 dead/failed, over --max-dead 0'])
    const dead = await peekMessages(broker, 'flaky', 5, 'dead')
    expect(dead[0]!.attempts).toBe(2)
    expect(dead[0]!.lastError).toMatch(/gave up after 2 attempts/)
    expect(await broker.retry('flaky', {})).toBe(1)
    expect((await broker.stats('flaky')).counts).toMatchObject({waiting: 1, dead: 0})
  })

  it('refuses options the broker cannot honour', async () => {
    const caps = await broker.capabilitiesOf()
    expect(() => checkOptions(broker, caps, {priority: 999})).toThrow(/out of range/)
    expect(() => checkOptions(broker, caps, {groupId: 'g'})).toThrow(/no message groups/)
  })

  it('stops between batches when interrupted and says how many were sent', async () => {
    const controller = new AbortController()
    const messages = Array.from({length: 10}, (_, i) => ({payload: String(i)}))
    await expect(
      sendInBatches(broker, 'interrupted', messages, {
        batchSize: 3,
        total: 10,
        signal: controller.signal,
        onBatch: (_ids, sent) => sent >= 6 && controller.abort(),
      }),
    ).rejects.toMatchObject({exitCode: 130, message: expect.stringMatching(/6 of 10 messages were sent/)})
    expect((await broker.stats('interrupted')).counts.waiting).toBe(6)
  })
})
