// The brokers the ops e2e tests run on, behind one shape: a URL for the CLI, fresh queues (with a
// dead-letter place where the broker needs one declared), and dead messages made the way a worker
// makes them (consume → deadLetter).
import type {Broker} from '../../src/broker/contract.js'
import {createBroker} from '../../src/adapters/registry.js'
import {AMQP_URL, declareQueue, dropQueue as dropAmqpQueue} from '../adapters/amqp/helpers.js'
import {adminClient, createQueueWithDlq, dropQueueWithDlq, emulatorUrl} from '../adapters/sqs/helpers.js'

export const REDIS_OPS_URL = `redis://${process.env.QUEUECTL_TEST_REDIS ?? '127.0.0.1:6379'}/13`

export interface OpsTarget {
  name: string
  url(): string
  /** A new queue (and its dead-letter queue where the broker needs one). */
  fresh(hint: string): Promise<string>
  drop(queue: string): Promise<void>
  /** Whether `retry` reads dead messages (false: no dead-letter place for this target). */
  dead: boolean
  /** What a peek (export without --consume) needs: SQS refuses to peek a queue with a redrive policy without an opt-in. */
  peekFlags?: string[]
}

let seq = 0
const unique = (hint: string) => `ops-${hint}-${process.pid}-${Date.now().toString(36)}-${seq++}`

export async function open(url: string): Promise<Broker> {
  const b = await createBroker(url, {timeoutMs: 10_000})
  await b.connect()
  return b
}

async function withBroker<T>(url: string, fn: (b: Broker) => Promise<T>): Promise<T> {
  const b = await open(url)
  try {
    return await fn(b)
  } finally {
    await b.close()
  }
}

function redisTarget(kind: 'list' | 'bullmq'): OpsTarget {
  return {
    name: `redis ${kind}`,
    url: () => REDIS_OPS_URL,
    fresh: (hint) =>
      withBroker(REDIS_OPS_URL, async (b) => {
        const q = `${kind}:${unique(hint)}`
        await b.createQueue(q)
        return q
      }),
    drop: (q) => withBroker(REDIS_OPS_URL, (b) => b.deleteQueue(q).catch(() => {})),
    dead: true,
  }
}

export function targets(): OpsTarget[] {
  const sqsAdmin = () => adminClient()
  return [
    redisTarget('list'),
    redisTarget('bullmq'),
    {
      name: 'rabbitmq',
      url: () => AMQP_URL,
      fresh: (hint) => declareQueue(unique(hint), {dlq: true}),
      drop: (q) => dropAmqpQueue(q),
      dead: true,
    },
    {
      name: 'sqs',
      url: () => emulatorUrl('&wait=1'),
      fresh: async (hint) => {
        const admin = sqsAdmin()
        try {
          return (await createQueueWithDlq(admin, unique(hint))).name
        } finally {
          admin.destroy()
        }
      },
      drop: async (q) => {
        const admin = sqsAdmin()
        try {
          await dropQueueWithDlq(admin, q)
        } finally {
          admin.destroy()
        }
      },
      dead: true,
      peekFlags: ['--consume-receives'],
    },
  ]
}

/** Enqueues `n` messages and dead-letters them through a consumer, as a failing worker would. */
export async function makeDead(url: string, queue: string, n: number): Promise<void> {
  await withBroker(url, async (b) => {
    await b.enqueue(queue, [...Array(n)].map((_, i) => ({payload: JSON.stringify({dead: i}), name: 'doomed'})))
    let done = 0
    const sub = await b.consume(queue, (lease) => void lease.deadLetter('boom').then(() => done++), {prefetch: n})
    try {
      await eventually(async () => done >= n, 30_000, `${n} dead letters`)
    } finally {
      await sub.close()
    }
    await eventually(async () => ((await b.stats(queue)).counts.dead ?? 0) >= n, 30_000, 'dead count')
  })
}

export async function counts(url: string, queue: string): Promise<Record<string, number>> {
  return withBroker(url, async (b) => (await b.stats(queue)).counts as Record<string, number>)
}

export async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
