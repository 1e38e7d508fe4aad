// `queue enqueue` and `queue import` keep several batches in flight where the adapter says its writes
// keep their order (EnqueueOptions.onWritten): on PostgreSQL they go down one pipelined connection,
// each batch its own transaction, so they overlap and still land in input order.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, EnqueueOptions, OutgoingMessage} from '../../../src/broker/contract.js'
import {BATCHES_IN_FLIGHT, sendInBatches} from '../../../src/services/enqueue.js'
import {freshDatabase, installGraphile, installPgboss, openPostgres, type TestDb} from './helpers.js'

describe('PostgreSQL enqueue: batches in flight, in order', () => {
  let db: TestDb
  let broker: Broker

  beforeAll(async () => {
    db = await freshDatabase('wt_pg_ordered_enqueue')
    await installPgboss(db.url)
    await installGraphile(db.url)
    broker = await openPostgres(db.url)
  })

  afterAll(async () => {
    await broker?.close()
    await db?.drop()
  })

  /** The most enqueue calls the sender had running at once. */
  function counting(inner: Broker): {broker: Broker; most: () => number} {
    let running = 0
    let most = 0
    const broker = Object.create(inner) as Broker
    broker.enqueue = async (queue: string, messages: OutgoingMessage[], options?: EnqueueOptions) => {
      most = Math.max(most, ++running)
      try {
        return await inner.enqueue(queue, messages, options)
      } finally {
        running--
      }
    }
    return {broker, most: () => most}
  }

  for (const kind of ['graphile', 'pgboss']) {
    it(`${kind}: ${BATCHES_IN_FLIGHT} batches overlap, and every message lands once in input order`, async () => {
      const queue = `${kind}:wt-pg-ordered`
      const count = 2000
      const messages = Array.from({length: count}, (_, n) => ({payload: JSON.stringify({n})}))
      const sender = counting(broker)
      const {sent} = await sendInBatches(sender.broker, queue, messages, {batchSize: 50})
      expect(sent).toBe(count)
      // without onWritten the sender waits for each batch's answer before the next
      expect(sender.most()).toBe(BATCHES_IN_FLIGHT)
      const peeked = await broker.peek(queue, {limit: count + 10, state: 'waiting'})
      expect(peeked.map((m) => (JSON.parse(m.payload.toString()) as {n: number}).n)).toEqual(messages.map((_, n) => n))
    })
  }

  it('a failed batch fails alone: the batches after it on the pipelined connection still run', async () => {
    const queue = 'graphile:wt-pg-ordered-fail'
    const written: number[] = []
    const good = (n: number) => broker.enqueue(queue, [{payload: JSON.stringify({n})}], {onWritten: () => written.push(n)})
    await good(0)
    const first = good(1)
    // a priority beyond int4: add_jobs refuses this batch on the server
    const bad = broker.enqueue(queue, [{payload: '{}', priority: 2 ** 40}], {onWritten: () => written.push(-1)})
    const last = good(2)
    await expect(bad).rejects.toThrow()
    await Promise.all([first, last])
    expect(written).toEqual([0, 1, -1, 2])
    const peeked = await broker.peek(queue, {limit: 10, state: 'waiting'})
    expect(peeked.map((m) => (JSON.parse(m.payload.toString()) as {n: number}).n)).toEqual([0, 1, 2])
  })
})
