// Wire speed on RabbitMQ (issue 22): small writes must leave at once. With Nagle on (amqplib's
// default) each round trip that sends two small writes back to back waits out the broker's
// delayed ACK (~40 ms on Linux); with no-delay it takes a few ms even on a busy machine.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {declareQueue, dropAllTestQueues, dropQueue, openAmqp, uniqueQueue} from './helpers.js'

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
})
