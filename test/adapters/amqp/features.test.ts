// AMQP specifics beyond the shared contract: what changes without the management API, dead-letter
// queues found through queue arguments, stats details, peek's requeue side effects, subscriptions.
import {createServer, type AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {createBroker} from '../../../src/adapters/registry.js'
import {connectWithin} from '../../../src/services/connection.js'
import {AMQP_URL, declareQueue, dropAllTestQueues, eventually, openAmqp, uniqueQueue} from './helpers.js'

let broker: Broker
beforeAll(async () => {
  broker = await openAmqp()
})
afterAll(async () => {
  await broker?.close()
  await dropAllTestQueues()
}, 30_000)

describe('amqp without the management API', () => {
  let bare: Broker
  beforeAll(async () => {
    // a port nothing listens on (undici refuses "bad ports" such as 1 outright, so take a real one)
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    bare = await openAmqp('', {mgmtUrl: `http://127.0.0.1:${port}`})
  })
  afterAll(() => bare?.close())

  it('declares less and says what listing needs', async () => {
    expect(await bare.capabilitiesOf()).toMatchObject({listQueues: false, rates: false, deadLetter: false, priority: false, states: ['waiting'], purgeStates: ['waiting']})
    await expect(bare.listQueues()).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringMatching(/^listing queues .* needs the RabbitMQ management API, and the management API at \S+ did not answer \(.*ECONNREFUSED.*\) — enable it with rabbitmq-plugins enable rabbitmq_management, or point --mgmt-url at it$/),
    })
  })

  it('a management port that never answers does not make connecting time out; capabilities degrade', async () => {
    const silent = createServer(() => {}) // accepts, never replies
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as AddressInfo).port
    try {
      const b = await createBroker(AMQP_URL, {timeoutMs: 3000, options: {'mgmt-url': `http://127.0.0.1:${port}`}})
      await connectWithin(b, 3000) // rejects if connect() outlives the timeout
      expect((await b.capabilitiesOf()).listQueues).toBe(false)
      await b.close()
    } finally {
      silent.close()
    }
  })

  it('still counts ready messages and consumers, and leaves out what it cannot count', async () => {
    const q = await declareQueue(uniqueQueue('bare'))
    await bare.enqueue(q, [{payload: 'a'}, {payload: 'b'}])
    const stats = await bare.stats(q)
    expect(stats.counts).toEqual({waiting: 2})
    expect(stats.consumers).toBe(0)
    expect(stats.rates).toBeUndefined()
    expect(await bare.purge(q)).toBe(2)
    await expect(bare.peek(q, {limit: 1, state: 'dead'})).rejects.toMatchObject({exitCode: 4})
  })
})

describe('amqp with the management API', () => {
  it('lists queues, with stats details: type, arguments, dead-letter queue', async () => {
    const q = await declareQueue(uniqueQueue('details'), {type: 'quorum', dlq: true})
    const list = await eventually(async () => {
      const l = await broker.listQueues()
      return l.some((r) => r.name === q) ? l : undefined
    }, 10_000, 'the queue listed')
    expect(list.find((r) => r.name === q)?.kind).toBe('amqp')
    const stats = await broker.stats(q)
    expect(stats.details).toMatchObject({type: 'quorum', deadLetterExchange: '', deadLetterQueue: `${q}.dlq`})
    expect(stats.details?.arguments).toMatchObject({'x-queue-type': 'quorum'})
    expect(stats.counts.dead).toBe(0)
  })

  it('capabilities per queue follow its type, x-max-priority and dead-letter route', async () => {
    const classic = await declareQueue(uniqueQueue('caps-classic'), {maxPriority: 7, dlq: true})
    const plain = await declareQueue(uniqueQueue('caps-plain'))
    const quorum = await declareQueue(uniqueQueue('caps-quorum'), {type: 'quorum', dlq: true})
    expect(await broker.capabilitiesOf(classic)).toMatchObject({priority: {min: 0, max: 7}, deadLetter: 'queue', states: ['waiting', 'inflight', 'dead']})
    expect(await broker.capabilitiesOf(plain)).toMatchObject({priority: false, deadLetter: false, states: ['waiting', 'inflight'], purgeStates: ['waiting']})
    expect(await broker.capabilitiesOf(quorum)).toMatchObject({priority: false, deadLetter: 'queue'})
  })

  it('dead-letters with the reason, peeks and purges the dead ones', async () => {
    const q = await declareQueue(uniqueQueue('dead'), {dlq: true})
    await broker.enqueue(q, [{payload: 'poison', name: 'job', headers: {k: 'v'}}])
    const leases: Lease[] = []
    const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 1})
    await eventually(() => (leases.length ? true : undefined), 10_000, 'a delivery')
    await leases[0]!.deadLetter('kaput: division by zero')
    await sub.close()
    const [dead] = await broker.peek(q, {limit: 5, state: 'dead'})
    expect(dead).toMatchObject({state: 'dead', name: 'job', lastError: 'kaput: division by zero'})
    expect(dead!.payload.toString()).toBe('poison')
    expect(dead!.headers).toMatchObject({k: 'v', 'x-queuectl-dead-from': q})
    expect((await broker.stats(q)).counts.dead).toBe(1)
    expect(await broker.purge(q, 'dead')).toBe(1)
    expect((await broker.stats(q)).counts.dead).toBe(0)
  })

  it('refuses to dead-letter where there is no dead-letter exchange, and keeps the message', async () => {
    const q = await declareQueue(uniqueQueue('nodlx'))
    await broker.enqueue(q, [{payload: 'keep me'}])
    const leases: Lease[] = []
    const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 1})
    await eventually(() => (leases.length ? true : undefined), 10_000, 'a delivery')
    await expect(leases[0]!.deadLetter('nope')).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/no dead-letter exchange.*requeued, not dropped/)})
    await sub.close()
    const [back] = await broker.peek(q, {limit: 1})
    expect(back!.payload.toString()).toBe('keep me')
  })

  it('peek is a requeue: the message comes back flagged as delivered before', async () => {
    const q = await declareQueue(uniqueQueue('peek'))
    await broker.enqueue(q, [{payload: 'one'}, {payload: 'two'}, {payload: 'three'}])
    const first = await broker.peek(q, {limit: 2})
    expect(first.map((m) => m.payload.toString())).toEqual(['one', 'two'])
    expect(first[0]!.attempts).toBe(0)
    expect((await broker.capabilitiesOf()).peek).toBe('requeue')
    const again = await broker.peek(q, {limit: 10})
    expect(again.map((m) => m.payload.toString())).toEqual(['one', 'two', 'three'])
    expect(again[0]!.attempts).toBe(0) // our first peek raised the redelivered flag: no attempt
    expect((again[0]!.raw as {fields: {redelivered: boolean}}).fields.redelivered).toBe(true)
    expect((await broker.stats(q)).counts.waiting).toBe(3)
    await expect(broker.peek(q, {limit: 1, state: 'inflight'})).rejects.toMatchObject({exitCode: 4})
  })

  it('consuming a missing queue is exit 4', async () => {
    await expect(broker.consume(uniqueQueue('absent'), () => {}, {prefetch: 1})).rejects.toMatchObject({exitCode: 4})
    await expect(broker.consume(uniqueQueue('absent'), () => {}, {prefetch: 0})).rejects.toMatchObject({exitCode: 2})
  })

  it('a closed subscription keeps its unsettled leases until they are settled', async () => {
    const q = await declareQueue(uniqueQueue('keep'))
    await broker.enqueue(q, [{payload: 'held'}, {payload: 'next'}])
    const leases: Lease[] = []
    const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 1})
    await eventually(() => (leases.length ? true : undefined), 10_000, 'a delivery')
    await sub.close()
    // the held message is not handed back while its lease is open
    expect((await broker.stats(q)).counts.waiting).toBe(1)
    await leases[0]!.nack()
    await eventually(async () => ((await broker.stats(q)).counts.waiting === 2 ? true : undefined), 5000, 'the nacked message back')
    expect(await sub.closed).toBeUndefined()
  })

  it('a subscription whose queue is deleted ends with an error', async () => {
    const q = await declareQueue(uniqueQueue('deleted'))
    const sub = await broker.consume(q, () => {}, {prefetch: 1})
    await broker.deleteQueue(q)
    const error = await sub.closed
    expect(error?.message).toMatch(/cancelled the consumer|stopped/)
  })

  it('createQueue declares the URL\'s queue type; deleteQueue of a missing queue is exit 4', async () => {
    const quorum = await openAmqp('?queueType=quorum')
    try {
      const q = uniqueQueue('created')
      await quorum.createQueue(q)
      await quorum.createQueue(q) // idempotent with the same arguments
      expect((await quorum.stats(q)).details?.type).toBe('quorum')
      await quorum.deleteQueue(q)
      await expect(quorum.deleteQueue(q)).rejects.toMatchObject({exitCode: 4})
    } finally {
      await quorum.close()
    }
  })
})
