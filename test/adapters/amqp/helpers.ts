// Shared by the AMQP tests: the local RabbitMQ, unique queue names per run, fixtures declared with
// amqplib directly (arguments the adapter's createQueue does not take: DLX, x-max-priority).
import type {ChildProcess} from 'node:child_process'
import amqp from 'amqplib'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'

export const AMQP_URL = process.env.QUEUECTL_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/'
export const MGMT_URL = process.env.QUEUECTL_TEST_RABBITMQ_MGMT ?? 'http://127.0.0.1:15672'
export const MGMT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`
export const PREFIX = `qctl-test-${process.pid}-${Date.now().toString(36)}`

let seq = 0
export function uniqueQueue(hint: string): string {
  return `${PREFIX}-${hint}-${seq++}`
}

export async function openAmqp(query = '', options: {mgmtUrl?: string} = {}): Promise<Broker> {
  const broker = await createBroker(`${AMQP_URL}${query}`, {timeoutMs: 10_000, options: {'mgmt-url': options.mgmtUrl}})
  await broker.connect()
  return broker
}

export interface Fixture {
  type?: 'classic' | 'quorum'
  maxPriority?: number
  /** Also declare `<name>.dlq` and dead-letter into it through the default exchange. */
  dlq?: boolean
  args?: Record<string, unknown>
}

/** Declares a durable queue with the given arguments; returns its name. */
export async function declareQueue(name: string, f: Fixture = {}): Promise<string> {
  const conn = await amqp.connect(AMQP_URL)
  try {
    const ch = await conn.createChannel()
    const args: Record<string, unknown> = {...f.args}
    if (f.type === 'quorum') args['x-queue-type'] = 'quorum'
    if (f.maxPriority) args['x-max-priority'] = f.maxPriority
    if (f.dlq) {
      const dlqArgs = f.type === 'quorum' ? {'x-queue-type': 'quorum'} : {}
      await ch.assertQueue(`${name}.dlq`, {durable: true, arguments: dlqArgs})
      args['x-dead-letter-exchange'] = ''
      args['x-dead-letter-routing-key'] = `${name}.dlq`
    }
    await ch.assertQueue(name, {durable: true, arguments: args})
    await ch.close()
  } finally {
    await conn.close()
  }
  return name
}

/** Deletes a queue (and its .dlq) if they exist. */
export async function dropQueue(name: string): Promise<void> {
  const conn = await amqp.connect(AMQP_URL)
  try {
    for (const q of [name, `${name}.dlq`]) {
      const ch = await conn.createChannel()
      ch.on('error', () => {})
      await ch.deleteQueue(q).catch(() => {})
      await ch.close().catch(() => {})
    }
  } finally {
    await conn.close()
  }
}

/** Deletes every queue this test process made (by prefix), through the management API. */
export async function dropAllTestQueues(): Promise<void> {
  const res = await fetch(`${MGMT_URL}/api/queues/%2F?columns=name`, {headers: {authorization: MGMT_AUTH}}).catch(() => undefined)
  if (!res?.ok) return
  const queues = (await res.json()) as {name: string}[]
  for (const q of queues.filter((x) => x.name.startsWith(PREFIX))) await dropQueue(q.name)
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out after ${ms}ms waiting for ${what}`)
    await sleep(50)
  }
}

/** Stops a worker process (SIGTERM, then SIGKILL after graceMs); resolves once it has exited. */
export function stopWorker(worker: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!worker || worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const hard = setTimeout(() => worker.kill('SIGKILL'), graceMs)
    worker.once('exit', () => {
      clearTimeout(hard)
      resolve()
    })
    worker.kill('SIGTERM')
  })
}
