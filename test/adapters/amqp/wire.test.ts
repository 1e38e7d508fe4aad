// Wire speed on RabbitMQ (issue 22): small writes must leave at once. With Nagle on (amqplib's
// default) each round trip that sends two small writes back to back waits out the broker's
// delayed ACK (~40 ms on Linux); with no-delay it takes a few ms even on a busy machine.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {createBroker} from '../../../src/adapters/registry.js'
import {startTcpProxy} from '../../ops/tcp-proxy.js'
import {MGMT_URL, declareQueue, dropAllTestQueues, dropQueue, eventually, openAmqp, sleep, uniqueQueue} from './helpers.js'

let broker: Broker
beforeAll(async () => {
  broker = await openAmqp()
})
afterAll(async () => {
  await broker?.close()
  await dropAllTestQueues()
}, 30_000)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('amqp wire latency', () => {
  it('a confirmed enqueue followed by its delivery and ack takes well under a delayed ACK (no Nagle stall)', async () => {
    const q = await declareQueue(uniqueQueue('wire'))
    // each delivery resolves the promise the loop waits on (no polling: it would swamp the timings)
    let delivered: (l: Lease) => void = () => {}
    const next = () => new Promise<Lease>((resolve) => (delivered = resolve))
    const sub = await broker.consume(q, (l) => delivered(l), {prefetch: 1})
    const times: number[] = []
    for (let i = 0; i < 31; i++) {
      const t = performance.now()
      const lease = next()
      await broker.enqueue(q, [{payload: `m${i}`}])
      await (await lease).ack()
      if (i > 0) times.push(performance.now() - t) // the first checks the queue and opens the confirm channel
    }
    await sub.close()
    // Nagle + delayed ACK: ~40-50 ms each; without: 1-5 ms idle, rarely over 10 ms under load
    expect(median(times)).toBeLessThan(25)
  }, 60_000)

  it('checks a queue once per connection, and still refuses with exit 4 once it is deleted behind our back', async () => {
    const q = await declareQueue(uniqueQueue('gone'))
    await broker.enqueue(q, [{payload: 'a'}])
    await dropQueue(q) // another client deletes it: our next batch is returned unroutable (mandatory)
    const error = await broker.enqueue(q, [{payload: 'b'}, {payload: 'c'}]).catch((e: unknown) => e)
    expect(error).toMatchObject({exitCode: 4})
    expect(String((error as Error).message)).toMatch(/could not be routed to ".*gone.*"|not found|no queue/i)
    // and the one after that checks again: the plain not-found error, nothing published
    await expect(broker.enqueue(q, [{payload: 'd'}])).rejects.toMatchObject({exitCode: 4})
    await declareQueue(q)
    await expect(broker.enqueue(q, [{payload: 'e'}])).resolves.toHaveLength(1)
  }, 30_000)

  it('acks a burst of deliveries in a few multiple acks, not one frame per message', async () => {
    const q = await declareQueue(uniqueQueue('acks'))
    const n = 400
    await broker.enqueue(q, Array.from({length: n}, (_, i) => ({payload: `m${i}`})))
    // what our consumer writes to the broker, counted by a proxy in between
    const proxy = await startTcpProxy('127.0.0.1', 5672)
    const consumer = await createBroker(`amqp://guest:guest@127.0.0.1:${proxy.port}/`, {timeoutMs: 10_000, options: {'mgmt-url': MGMT_URL}})
    try {
      await consumer.connect()
      let got = 0
      const before = proxy.forwarded
      const sub = await consumer.consume(q, (l) => void l.ack().then(() => got++), {prefetch: 100})
      await eventually(() => (got === n ? true : undefined), 20_000, `${n} deliveries`)
      await sleep(100) // the last turn's acks
      const written = proxy.forwarded - before
      await sub.close()
      expect((await broker.stats(q)).counts.waiting).toBe(0)
      // one basic.ack frame is 21 bytes: one per message would be 8,400 bytes
      expect(written).toBeLessThan((n * 21) / 4)
    } finally {
      await consumer.close()
      await proxy.close()
    }
  }, 60_000)

  it('a delivery allocates its lease and message only: no per-message closures or settle objects', async () => {
    const q = await declareQueue(uniqueQueue('lease'))
    await broker.enqueue(q, [{payload: 'a'}, {payload: 'b'}, {payload: 'c'}])
    const seen: Lease[] = []
    const sub = await broker.consume(q, (l) => void seen.push(l), {prefetch: 10})
    try {
      await eventually(() => (seen.length === 3 ? true : undefined), 10_000, '3 deliveries')
      // the adapter's own lease, under the guard's wrapper (and a bounded broker's, if any)
      const own = seen.map((l) => {
        let inner = l as Lease & {inner?: Lease}
        while (inner.inner) inner = inner.inner
        return inner as unknown as Record<string, unknown>
      })
      const [a, b] = own as [Record<string, unknown>, Record<string, unknown>]
      for (const [key, value] of Object.entries(a)) {
        expect(typeof value, key).not.toBe('function')
        // what is the delivery's own (the amqplib message, our Message) may differ; everything else is shared
        if (value !== null && typeof value === 'object' && key !== 'message' && key !== 'msg') expect(b[key], key).toBe(value)
      }
      await Promise.all(seen.map((l) => l.ack()))
      await sleep(100)
    } finally {
      await sub.close()
    }
    expect((await broker.stats(q)).counts.waiting).toBe(0)
  }, 30_000)

  it('a batched ack never covers a message still being handled: it can be handed back afterwards', async () => {
    const q = await declareQueue(uniqueQueue('held'))
    await broker.enqueue(q, Array.from({length: 10}, (_, i) => ({payload: `m${i}`})))
    const seen: Lease[] = []
    const sub = await broker.consume(q, (l) => {
      seen.push(l)
      if (seen.length > 1) void l.ack() // the first one is held
    }, {prefetch: 10})
    try {
      await eventually(() => (seen.length === 10 ? true : undefined), 10_000, '10 deliveries')
      await sleep(100) // the acks of the other nine go out (as a multiple ack, if it covered the first, the nack below would close the channel)
      await seen[0]!.nack()
      await eventually(() => (seen.length === 11 ? true : undefined), 10_000, 'the held message again')
      expect(seen[10]!.message.payload.toString()).toBe(seen[0]!.message.payload.toString())
      await seen[10]!.ack()
      await sleep(100)
    } finally {
      await sub.close()
    }
    expect(seen).toHaveLength(11)
    expect((await broker.stats(q)).counts.waiting).toBe(0)
  }, 30_000)

  it('takes many enqueue calls at once on one connection without a listener-leak warning (bench --rate keeps 16 in flight)', async () => {
    const q = await declareQueue(uniqueQueue('concurrent'))
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const calls = Array.from({length: 20}, (_, i) => broker.enqueue(q, Array.from({length: 10}, (_, k) => ({payload: `m${i}-${k}`}))))
      expect((await Promise.all(calls)).flat()).toHaveLength(200)
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning')
    expect((await broker.stats(q)).counts.waiting).toBe(200)
  }, 30_000)
})
