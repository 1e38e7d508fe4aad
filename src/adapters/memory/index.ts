// memory:// — the embedded in-process broker and the reference adapter of the contract.
// memory://NAME shares one store among every broker of this process opened with that NAME (plain
// memory:// is the store "default"). Options: ?maxAttempts=N (dead-letter after N deliveries),
// ?leaseMs=N (default lease length).
import type {
  AdapterBroker,
  BrokerFactory,
  Capabilities,
  ConsumeOptions,
  EnqueueOptions,
  LeaseHandler,
  Message,
  MessageState,
  OutgoingMessage,
  PeekOptions,
  QueueRef,
  QueueStats,
  RetryOptions,
  Subscription,
  WorkerReport,
} from '../../broker/contract.js'
import {ClosedSignal} from '../../broker/kit/subscription.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {MemoryQueue, toMessage, type MemorySubscriber} from './queue.js'

const stores = new Map<string, Map<string, MemoryQueue>>()

const STATES: MessageState[] = ['waiting', 'inflight', 'delayed', 'dead']

export const memoryCapabilities: Capabilities = {
  listQueues: true,
  peek: 'exact',
  delay: {maxMs: 365 * 24 * 3600 * 1000},
  priority: {min: 0, max: 255},
  deadLetter: 'state',
  leaseExpiry: true,
  rates: true,
  states: STATES,
  purgeStates: ['waiting', 'delayed', 'dead'],
  dedup: false,
  groups: false,
  // in-process: nothing reaches a disk; enqueue resolves once the message is stored
  publish: {persistent: 'never', confirms: 'always'},
  inProcess: true,
  retry: {states: ['dead']},
  remove: {states: ['delayed', 'dead']},
  pause: false,
  create: true,
  delete: true,
  extend: true,
  consume: true,
  enqueue: true,
  advice: {pause: 'stop its consumers instead'},
}

function positiveInt(url: URL, key: string, fallback: number): number {
  const raw = url.searchParams.get(key)
  if (raw === null) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${key}=${raw} in the memory URL must be a positive integer`)
  return n
}

class MemoryBroker implements AdapterBroker {
  readonly transport = 'memory'
  private readonly queues: Map<string, MemoryQueue>
  private readonly subscriptions = new Set<Subscription>()
  private closed = false
  private lastRate = new Map<string, {at: number; enq: number; ack: number; inPerSec: number; outPerSec: number}>()

  constructor(
    readonly displayUrl: string,
    storeName: string,
    private readonly maxAttempts: number,
    private readonly leaseMs: number,
  ) {
    let store = stores.get(storeName)
    if (!store) {
      store = new Map()
      stores.set(storeName, store)
    }
    this.queues = store
  }

  async connect(): Promise<void> {}

  async capabilitiesOf(): Promise<Capabilities> {
    return memoryCapabilities
  }

  async listQueues(): Promise<QueueRef[]> {
    return [...this.queues.keys()].sort().map((name) => ({name, kind: 'memory'}))
  }

  private existing(queue: string): MemoryQueue {
    const q = this.queues.get(queue)
    if (!q) throw queueNotFound(queue, this.displayUrl, [...this.queues.keys()])
    return q
  }

  private ensure(queue: string): MemoryQueue {
    let q = this.queues.get(queue)
    if (!q) {
      q = new MemoryQueue(queue, this.maxAttempts)
      this.queues.set(queue, q)
    }
    return q
  }

  async workers(): Promise<WorkerReport> {
    return {workers: [], recorded: false, notes: ['memory:// lives in one process: its consumers are that process\'s own, and no other process can list them']}
  }

  async createQueue(queue: string): Promise<void> {
    this.ensure(queue)
  }

  async deleteQueue(queue: string): Promise<void> {
    this.existing(queue).close()
    this.queues.delete(queue)
  }

  async stats(queue: string): Promise<QueueStats> {
    const q = this.existing(queue)
    const now = Date.now()
    const since = q.oldestWaitingSince()
    return {
      name: queue,
      kind: 'memory',
      counts: q.counts(),
      consumers: q.consumers,
      oldestAgeMs: since === undefined ? undefined : Math.max(0, now - since),
      rates: this.rates(q, now),
    }
  }

  private rates(q: MemoryQueue, now: number): {inPerSec: number; outPerSec: number} {
    const last = this.lastRate.get(q.name)
    if (last && now - last.at < 500) return {inPerSec: last.inPerSec, outPerSec: last.outPerSec}
    const seconds = last ? (now - last.at) / 1000 : 0
    const inPerSec = last && seconds > 0 ? (q.enqueuedTotal - last.enq) / seconds : 0
    const outPerSec = last && seconds > 0 ? (q.ackedTotal - last.ack) / seconds : 0
    this.lastRate.set(q.name, {at: now, enq: q.enqueuedTotal, ack: q.ackedTotal, inPerSec, outPerSec})
    return {inPerSec, outPerSec}
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    const q = this.existing(queue)
    const state = options.state ?? 'waiting'
    if (!STATES.includes(state)) throw new NotSupportedError(`memory:// keeps no "${state}" messages — states: ${STATES.join(', ')}`)
    return q.list(state, options.limit).map((stored) => toMessage(queue, stored))
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
    const q = this.ensure(queue)
    const now = Date.now()
    const transfer = options?.transferPayloads === true
    const ids = new Array<string>(messages.length)
    for (let i = 0; i < messages.length; i++) ids[i] = q.add(messages[i]!, now, transfer)
    return ids
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    const q = this.ensure(queue)
    const subscriber: MemorySubscriber = {
      handler,
      prefetch: Math.max(1, options.prefetch),
      leaseMs: options.leaseMs ?? this.leaseMs,
      outstanding: 0,
      open: true,
    }
    const closed = new ClosedSignal()
    const subscription: Subscription = {
      closed: closed.promise,
      close: async () => {
        if (!subscriber.open) return
        q.unsubscribe(subscriber)
        this.subscriptions.delete(subscription)
        closed.end(undefined)
      },
    }
    this.subscriptions.add(subscription)
    q.subscribe(subscriber)
    return subscription
  }

  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    if (!memoryCapabilities.purgeStates.includes(state)) {
      throw new NotSupportedError(`memory:// cannot purge "${state}" messages — it can purge: ${memoryCapabilities.purgeStates.join(', ')}`)
    }
    return this.existing(queue).purge(state)
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    const state = options.state ?? 'dead'
    if (state !== 'dead') throw new NotSupportedError(`memory:// retries only dead messages, not "${state}"`)
    return this.existing(queue).retryDead(options.ids ? new Set(options.ids) : undefined, options.limit ?? Infinity)
  }

  async remove(queue: string, ids: readonly string[], state: MessageState): Promise<number> {
    const q = this.existing(queue)
    if (state !== 'delayed' && state !== 'dead') throw new NotSupportedError(`memory:// deletes single messages only from delayed and dead, not "${state}" — purge the state instead`)
    return q.remove(new Set(ids), state)
  }

  /** Refusals name the queue without the URL (the process is the broker). */
  async queueLabel(queue: string): Promise<string> {
    return `memory queue "${queue}"`
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.subscriptions].map((s) => s.close()))
  }
}

export const createMemoryBroker: BrokerFactory = async (url) => {
  const storeName = url.hostname || url.pathname.replace(/^\/+/, '') || 'default'
  const maxAttempts = positiveInt(url, 'maxAttempts', Number.MAX_SAFE_INTEGER)
  const leaseMs = positiveInt(url, 'leaseMs', 30_000)
  return new MemoryBroker(`memory://${storeName === 'default' ? '' : storeName}`, storeName, maxAttempts, leaseMs)
}
