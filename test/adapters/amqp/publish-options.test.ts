// EnqueueOptions.persistent / confirms on RabbitMQ: delivery mode 2 unless asked otherwise, and a
// plain (unconfirmed) channel when confirms are off; the capability says both are a choice (on
// classic queues).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Message} from '../../../src/broker/contract.js'
import {declareQueue, dropAllTestQueues, openAmqp, uniqueQueue} from './helpers.js'

let broker: Broker
beforeAll(async () => {
  broker = await openAmqp()
})
afterAll(async () => {
  await broker?.close()
  await dropAllTestQueues()
}, 30_000)

async function take(queue: string, count: number): Promise<Message[]> {
  const got: Message[] = []
  let done!: () => void
  const all = new Promise<void>((resolve) => (done = resolve))
  const sub = await broker.consume(queue, (lease) => {
    got.push(lease.message)
    void lease.ack()
    if (got.length === count) done()
  }, {prefetch: 10})
  await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`got ${got.length} of ${count}`)), 10_000))])
  await sub.close()
  return got
}

const deliveryMode = (m: Message) => (m.raw as {properties: {deliveryMode?: number}}).properties.deliveryMode

describe('amqp publish options', () => {
  it('declares persistent and confirms as the caller\'s choice; quorum queues always persist', async () => {
    expect((await broker.capabilitiesOf()).publish).toEqual({persistent: 'choice', confirms: 'choice'})
    const quorum = await openAmqp('?queueType=quorum')
    try {
      expect((await quorum.capabilitiesOf()).publish).toEqual({persistent: 'always', confirms: 'choice'})
    } finally {
      await quorum.close()
    }
  })

  it('publishes persistent (delivery mode 2) by default and transient (1) when persistent: false, with or without confirms', async () => {
    const queue = uniqueQueue('pubopts')
    await declareQueue(queue)
    await broker.enqueue(queue, [{payload: 'default'}])
    await broker.enqueue(queue, [{payload: 'transient'}], {persistent: false})
    await broker.enqueue(queue, Array.from({length: 50}, (_, i) => ({payload: `fire-${i}`})), {confirms: false, persistent: false})
    await broker.enqueue(queue, [{payload: 'unconfirmed-persistent'}], {confirms: false})
    const got = await take(queue, 53)
    const mode = new Map(got.map((m) => [m.payload.toString(), deliveryMode(m)]))
    expect(mode.get('default')).toBe(2)
    expect(mode.get('transient')).toBe(1)
    expect(mode.get('unconfirmed-persistent')).toBe(2)
    expect(got.filter((m) => m.payload.toString().startsWith('fire-')).map(deliveryMode)).toEqual(Array(50).fill(1))
  })

  it('an unconfirmed publish to a missing queue is still refused up front (exit 4), nothing sent', async () => {
    await expect(broker.enqueue(uniqueQueue('nosuch'), [{payload: 'x'}], {confirms: false})).rejects.toMatchObject({exitCode: 4})
  })
})
