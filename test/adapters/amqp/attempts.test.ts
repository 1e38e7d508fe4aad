// Attempts on RabbitMQ: a failed attempt is requeued as a confirmed copy carrying
// x-queuectl-attempts (properties and headers kept), on classic and quorum queues alike; the
// redelivered flag and x-delivery-count are not attempts (a peek raises them too: attempts.ts).
import {createServer, type AddressInfo} from 'node:net'
import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {AMQP_URL, declareQueue, dropAllTestQueues, eventually, openAmqp, uniqueQueue} from './helpers.js'

let broker: Broker
beforeAll(async () => {
  broker = await openAmqp()
})
afterAll(async () => {
  await broker?.close()
  await dropAllTestQueues()
}, 30_000)

/** Takes one delivery, stops consuming (so the settled message is not delivered again here), settles it with `settle`. */
async function once(b: Broker, q: string, settle: (l: Lease) => Promise<void>): Promise<Lease> {
  const leases: Lease[] = []
  const sub = await b.consume(q, (l) => leases.push(l), {prefetch: 1})
  try {
    await eventually(() => (leases.length ? true : undefined), 10_000, `a delivery from ${q}`)
  } finally {
    await sub.close()
  }
  await settle(leases[0]!)
  return leases[0]!
}

/** Publishes one message with a wide set of AMQP properties, straight through amqplib. */
async function publishRaw(q: string, extra: amqp.Options.Publish = {}): Promise<void> {
  const conn = await amqp.connect(AMQP_URL)
  try {
    const ch = await conn.createConfirmChannel()
    ch.publish('', q, Buffer.from('{"poison":true}'), {
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: 'm-1',
      correlationId: 'c-1',
      replyTo: 'answers',
      type: 'resize',
      appId: 'shop',
      userId: 'guest',
      timestamp: 1_700_000_000,
      expiration: '600000',
      headers: {trace: 'abc', n: 7, nested: {a: [1, 'x']}},
      ...extra,
    })
    await ch.waitForConfirms()
    await ch.close()
  } finally {
    await conn.close()
  }
}

describe('failed attempts on a classic queue', () => {
  it('are counted 1, 2, 3… through a copy that keeps every property and header', async () => {
    const q = await declareQueue(uniqueQueue('att-classic'))
    await publishRaw(q)
    const seen: number[] = []
    for (let i = 0; i < 4; i++) seen.push((await once(broker, q, (l) => l.nack({failed: true}))).message.attempts)
    expect(seen).toEqual([1, 2, 3, 4])
    // one message, not a pile of copies
    expect((await broker.stats(q)).counts.waiting).toBe(1)
    const [peeked] = await broker.peek(q, {limit: 5})
    expect(peeked!.attempts).toBe(4) // the header, read by peek/inspect
    expect(peeked!.headers).toMatchObject({'x-queuectl-attempts': '4', trace: 'abc', n: '7'})
    const last = await once(broker, q, (l) => l.ack())
    // 4 recorded plus this delivery: the redelivered flag our peek raised is no attempt
    expect(last.message.attempts).toBe(5)
    const props = (last.message.raw as {properties: amqp.MessageProperties}).properties
    expect(props).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: 'm-1',
      correlationId: 'c-1',
      replyTo: 'answers',
      type: 'resize',
      appId: 'shop',
      userId: 'guest',
      timestamp: 1_700_000_000,
      expiration: '600000',
      deliveryMode: 2,
      headers: {trace: 'abc', n: 7, nested: {a: [1, 'x']}, 'x-queuectl-attempts': 4},
    })
    expect(last.message.payload.toString()).toBe('{"poison":true}')
  })

  it('a plain hand-back (nack without failed) leaves the message as it was, in place', async () => {
    const q = await declareQueue(uniqueQueue('att-handback'))
    await broker.enqueue(q, [{payload: 'first'}, {payload: 'second'}])
    await once(broker, q, (l) => l.nack())
    const again = await broker.peek(q, {limit: 2})
    expect(again.map((m) => m.payload.toString())).toEqual(['first', 'second'])
    expect(again[0]!.headers['x-queuectl-attempts']).toBeUndefined()
    expect(again[0]!.attempts).toBe(0) // flagged redelivered, but no attempt failed
  })

  it('are counted without the management API too (the URL says classic)', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const bare = await openAmqp('', {mgmtUrl: `http://127.0.0.1:${port}`})
    try {
      const q = await declareQueue(uniqueQueue('att-bare'))
      await bare.enqueue(q, [{payload: 'x', name: 'job', headers: {k: 'v'}}])
      const seen: number[] = []
      for (let i = 0; i < 3; i++) seen.push((await once(bare, q, (l) => l.nack({failed: true}))).message.attempts)
      expect(seen).toEqual([1, 2, 3])
      const last = await once(bare, q, (l) => l.ack())
      expect(last.message).toMatchObject({attempts: 4, name: 'job', headers: {k: 'v', 'x-queuectl-attempts': '3'}})
    } finally {
      await bare.close()
    }
  })

  it('when the copy is refused, the original is requeued as it was (nothing lost) and the caller is told', async () => {
    // full queue that refuses publishes: the copy is nacked by the broker
    const q = await declareQueue(uniqueQueue('att-full'), {args: {'x-max-length': 1, 'x-overflow': 'reject-publish'}})
    await broker.enqueue(q, [{payload: 'held'}])
    const leases: Lease[] = []
    const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 1})
    try {
      await eventually(() => (leases.length ? true : undefined), 10_000, 'a delivery')
      await broker.enqueue(q, [{payload: 'filler'}]) // the held one is unacked: the queue has room for this one only
      await expect(leases[0]!.nack({failed: true})).rejects.toMatchObject({
        exitCode: 3,
        message: expect.stringMatching(/could not record attempt 1 of message \S+ on .*basic\.nack.* it was requeued as it was/),
      })
    } finally {
      await sub.close()
    }
    const back = await broker.peek(q, {limit: 5})
    expect(back.map((m) => m.payload.toString()).sort()).toEqual(['filler', 'held'])
    expect(back.find((m) => m.payload.toString() === 'held')!.headers['x-queuectl-attempts']).toBeUndefined()
  })
})

describe('failed attempts on a quorum queue', () => {
  it('are counted on copies too: x-delivery-count also counts peeks, so it is not used', async () => {
    const q = await declareQueue(uniqueQueue('att-quorum'), {type: 'quorum'})
    await broker.enqueue(q, [{payload: 'q'}])
    await broker.peek(q, {limit: 1})
    await broker.peek(q, {limit: 1})
    const seen: Lease[] = []
    for (let i = 0; i < 3; i++) seen.push(await once(broker, q, (l) => l.nack({failed: true})))
    expect(seen.map((l) => l.message.attempts)).toEqual([1, 2, 3])
    expect(seen.map((l) => l.message.headers['x-queuectl-attempts'])).toEqual([undefined, '1', '2'])
    expect(seen[0]!.message.headers['x-delivery-count']).toBe('2') // RabbitMQ counted our two peeks
    expect((await broker.stats(q)).counts.waiting).toBe(1) // one message, not a pile of copies
  })
})

describe('closing right after the last settle', () => {
  it('loses neither the copy nor the ack of the original (the channel closes before the connection)', async () => {
    const b = await openAmqp()
    const q = await declareQueue(uniqueQueue('att-close'))
    await b.enqueue(q, [{payload: 'last'}])
    const lease = await once(b, q, (l) => l.nack({failed: true}))
    expect(lease.message.attempts).toBe(1)
    await b.close() // at once, as `queue work` does after its last settle
    const [only, ...more] = await broker.peek(q, {limit: 5})
    expect(more).toEqual([])
    expect(only!.attempts).toBe(1) // the copy, never delivered since: no redelivered original beside it
    expect(only!.headers['x-queuectl-attempts']).toBe('1')
  })
})
