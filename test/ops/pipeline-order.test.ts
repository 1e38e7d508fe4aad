// `queue import` keeps several batches in flight on brokers whose writes keep their order across
// enqueues (one Redis connection, one AMQP confirm channel, one NATS connection, one Kafka producer): 2,000 lines in
// batches of 100 reach the consumer in the order of the file.
import {Readable} from 'node:stream'
import {afterAll, describe, expect, it} from 'vitest'
import type {Broker, EnqueueOptions, OutgoingMessage} from '../../src/broker/contract.js'
import {importMessages} from '../../src/services/ops/import.js'
import {declareQueue, dropQueue as dropAmqpQueue, AMQP_URL} from '../adapters/amqp/helpers.js'
import {NATS_URL} from '../adapters/nats/helpers.js'
import {createTopic, deleteTopic, ensureKafka, KAFKA_URL, uniqueTopic} from '../adapters/kafka/helpers.js'
import {eventually, open, REDIS_OPS_URL} from './targets.js'

const N = 2000
const tag = `pipe-${process.pid}-${Date.now().toString(36)}`

interface Case {
  name: string
  url: string
  make(b: Broker): Promise<string>
  drop(b: Broker, q: string): Promise<void>
  /** The name a consumer reads it by, when not the queue's (Kafka: TOPIC/GROUP). */
  consumer?: (q: string) => string
}

const kafkaMissing = await ensureKafka()

const cases: Case[] = [
  {
    name: 'redis list',
    url: REDIS_OPS_URL,
    make: async (b) => {
      const q = `list:${tag}-list`
      await b.createQueue(q)
      return q
    },
    drop: (b, q) => b.deleteQueue(q).catch(() => {}),
  },
  {name: 'rabbitmq classic', url: AMQP_URL, make: () => declareQueue(`${tag}-amqp`), drop: (_b, q) => dropAmqpQueue(q)},
  {
    name: 'nats jetstream',
    url: NATS_URL,
    make: async (b) => {
      const q = `${tag}-nats`.replace(/[^A-Za-z0-9_-]/g, '_')
      await b.createQueue(q)
      return q
    },
    drop: (b, q) => b.deleteQueue(q).catch(() => {}),
  },
  ...(kafkaMissing
    ? []
    : [{name: 'kafka (one partition)', url: KAFKA_URL, make: () => createTopic(uniqueTopic('pipe')), drop: (_b: Broker, q: string) => deleteTopic(q), consumer: (q: string) => `${q}/${q}-g`}]),
]

const opened: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of opened) await close()
})

describe.each(cases)('import in order with batches in flight: $name', (c) => {
  it(`${N} lines in batches of 100: pipelined (more than one enqueue in flight), consumed in file order`, {timeout: 90_000}, async () => {
    const b = await open(c.url)
    const q = await c.make(b)
    opened.push(async () => {
      await c.drop(b, q)
      await b.close()
    })
    // count enqueues in flight at once: the adapter told onWritten, so the next batch did not wait for confirms
    const enqueue = b.enqueue.bind(b)
    let inFlight = 0
    let maxInFlight = 0
    b.enqueue = async (queue: string, messages: OutgoingMessage[], options?: EnqueueOptions) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      try {
        return await enqueue(queue, messages, options)
      } finally {
        inFlight--
      }
    }
    const text = Array.from({length: N}, (_, i) => JSON.stringify({payload: JSON.stringify({n: i}), contentType: 'application/json'})).join('\n') + '\n'
    const report = await importMessages(b, q, () => Readable.from([text]), false, {batchSize: 100, allOrNothing: false, priority: false})
    expect(report.imported).toBe(N)
    expect(maxInFlight).toBeGreaterThan(1)

    const seen: number[] = []
    const sub = await b.consume(c.consumer?.(q) ?? q, (lease) => {
      seen.push((JSON.parse(String(lease.message.payload)) as {n: number}).n)
      void lease.ack()
    }, {prefetch: 64})
    try {
      await eventually(async () => seen.length >= N, 60_000, `${N} consumed`)
    } finally {
      await sub.close()
    }
    expect(seen).toEqual(Array.from({length: N}, (_, i) => i))
  })
})
