// One in-process queue: the reference semantics every adapter is measured against.
// Waiting messages sit in one FIFO per priority (highest served first), delayed ones in a heap by
// due time, leased ones in a map swept for expired leases; nothing allocates per message beyond
// the message itself and its lease.
import type {Lease, LeaseHandler, Message, MessageState, NackOptions, OutgoingMessage} from '../../broker/contract.js'
import {SETTLED, SettleOnce} from '../../broker/kit/lease.js'
import {Deque} from './deque.js'
import {MinHeap} from './heap.js'
import {InflightList} from './inflight.js'

export interface StoredMessage {
  id: string
  seq: number
  payload: Buffer
  contentType?: string
  name?: string
  headers: Record<string, string>
  priority: number
  enqueuedAt: number
  availableAt: number
  attempts: number
  state: MessageState
  lastError?: string
  /** Bumped on every delivery, so a stale lease cannot settle a redelivered message. */
  token: number
  leaseExpiresAt: number
  subscriber?: MemorySubscriber
  /** Links in the in-flight list while leased. */
  prev: StoredMessage | undefined
  next: StoredMessage | undefined
}

export interface MemorySubscriber {
  handler: LeaseHandler
  prefetch: number
  leaseMs: number
  outstanding: number
  open: boolean
}

const DISPATCH_SLICE = 16_384

let nextId = 0
const idPrefix = `m${process.pid.toString(36)}${Date.now().toString(36)}-`

class MemoryLease extends SettleOnce implements Lease {
  constructor(
    private readonly queue: MemoryQueue,
    private readonly stored: StoredMessage,
    private readonly token: number,
    readonly message: Message,
  ) {
    super()
  }

  /** The first settle of a lease still current (not expired and redelivered meanwhile). */
  private current(): boolean {
    return this.claim() && this.stored.token === this.token && this.stored.state === 'inflight'
  }

  ack(): Promise<void> {
    if (this.current()) this.queue.finish(this.stored)
    return SETTLED
  }

  nack(options?: NackOptions): Promise<void> {
    if (this.current()) this.queue.requeue(this.stored, options?.delayMs ?? 0, undefined)
    return SETTLED
  }

  deadLetter(reason: string): Promise<void> {
    if (this.current()) this.queue.bury(this.stored, reason)
    return SETTLED
  }

  extend(ms: number): Promise<void> {
    if (!this.settled && this.stored.token === this.token) this.stored.leaseExpiresAt = Date.now() + ms
    return SETTLED
  }
}

export class MemoryQueue {
  private readonly levels = new Map<number, Deque<StoredMessage>>()
  private priorities: number[] = [] // descending
  /** levels in `priorities` order; empty levels are kept, so a queue that drains and refills does not churn. */
  private ordered: Deque<StoredMessage>[] = []
  private waitingCount = 0
  private readonly delayed = new MinHeap<StoredMessage>((a, b) =>
    a.availableAt === b.availableAt ? a.seq < b.seq : a.availableAt < b.availableAt,
  )
  readonly inflight = new InflightList<StoredMessage>()
  readonly dead: StoredMessage[] = []
  private readonly subscribers: MemorySubscriber[] = []
  private cursor = 0
  private scheduled = false
  private delayTimer: NodeJS.Timeout | undefined
  private delayTimerAt = Infinity
  private sweepTimer: NodeJS.Timeout | undefined
  private seq = 0
  enqueuedTotal = 0
  ackedTotal = 0

  constructor(
    readonly name: string,
    private readonly maxAttempts: number,
  ) {}

  /** `transfer`: the caller gave the Buffer up (EnqueueOptions.transferPayloads), so it is kept as is. */
  add(message: OutgoingMessage, now: number, transfer = false): string {
    const p = message.payload
    const payload = typeof p === 'string' ? Buffer.from(p) : transfer ? p : copy(p)
    const delay = message.delayMs ?? 0
    const stored: StoredMessage = {
      id: message.dedupId ?? idPrefix + (nextId++).toString(36),
      seq: this.seq++,
      payload,
      contentType: message.contentType,
      name: message.name,
      headers: message.headers ? {...message.headers} : {},
      priority: message.priority ?? 0,
      enqueuedAt: now,
      availableAt: now + delay,
      attempts: 0,
      state: 'waiting',
      token: 0,
      leaseExpiresAt: 0,
      subscriber: undefined,
      prev: undefined,
      next: undefined,
    }
    this.enqueuedTotal++
    if (delay > 0) this.schedule(stored)
    else this.pushWaiting(stored)
    return stored.id
  }

  counts(): Record<'waiting' | 'inflight' | 'delayed' | 'dead', number> {
    this.promoteDue(Date.now())
    return {waiting: this.waitingCount, inflight: this.inflight.size, delayed: this.delayed.length, dead: this.dead.length}
  }

  get consumers(): number {
    return this.subscribers.length
  }

  oldestWaitingSince(): number | undefined {
    let oldest: number | undefined
    for (const level of this.levels.values()) {
      const head = level.peekFirst()
      if (head && (oldest === undefined || head.availableAt < oldest)) oldest = head.availableAt
    }
    return oldest
  }

  /** Messages in a state, in the order they would be served. */
  list(state: MessageState, limit: number): StoredMessage[] {
    this.promoteDue(Date.now())
    const out: StoredMessage[] = []
    const take = (items: Iterable<StoredMessage>) => {
      for (const item of items) {
        if (out.length >= limit) return
        out.push(item)
      }
    }
    if (state === 'waiting') for (const p of this.priorities) take(this.levels.get(p)!)
    else if (state === 'delayed') take(this.delayed.sorted())
    else if (state === 'inflight') take(this.inflight.values())
    else if (state === 'dead') take(this.dead)
    return out
  }

  purge(state: MessageState): number {
    this.promoteDue(Date.now())
    if (state === 'waiting') {
      const n = this.waitingCount
      this.levels.clear()
      this.priorities = []
      this.ordered = []
      this.waitingCount = 0
      return n
    }
    if (state === 'delayed') return this.delayed.removeWhere(() => true).length
    if (state === 'dead') return this.dead.splice(0).length
    return 0
  }

  /** Deletes the delayed or dead messages with these ids. */
  remove(ids: Set<string>, state: 'delayed' | 'dead'): number {
    if (state === 'delayed') return this.delayed.removeWhere((m) => ids.has(m.id)).length
    let n = 0
    for (let i = this.dead.length - 1; i >= 0; i--) {
      if (ids.has(this.dead[i]!.id)) {
        this.dead.splice(i, 1)
        n++
      }
    }
    return n
  }

  /** Dead messages (all, or those with the given ids) back to waiting with a fresh attempt count. */
  retryDead(ids: Set<string> | undefined, limit: number): number {
    let moved = 0
    for (let i = 0; i < this.dead.length && moved < limit; ) {
      const stored = this.dead[i]!
      if (ids && !ids.has(stored.id)) {
        i++
        continue
      }
      this.dead.splice(i, 1)
      stored.attempts = 0
      stored.availableAt = Date.now()
      this.pushWaiting(stored)
      moved++
    }
    return moved
  }

  subscribe(subscriber: MemorySubscriber): void {
    this.subscribers.push(subscriber)
    this.ensureSweep()
    this.kick()
  }

  unsubscribe(subscriber: MemorySubscriber): void {
    subscriber.open = false
    const i = this.subscribers.indexOf(subscriber)
    if (i >= 0) this.subscribers.splice(i, 1)
    if (this.subscribers.length === 0 && this.inflight.size === 0) this.stopTimers()
  }

  finish(stored: StoredMessage): void {
    this.release(stored)
    stored.state = 'completed'
    this.ackedTotal++
  }

  requeue(stored: StoredMessage, delayMs: number, error: string | undefined): void {
    this.release(stored)
    if (error) stored.lastError = error
    if (stored.attempts >= this.maxAttempts) return this.toDead(stored, error ?? `gave up after ${stored.attempts} attempts`)
    stored.availableAt = Date.now() + delayMs
    if (delayMs > 0) this.schedule(stored)
    else this.pushWaiting(stored)
  }

  bury(stored: StoredMessage, reason: string): void {
    this.release(stored)
    this.toDead(stored, reason)
  }

  close(): void {
    for (const s of [...this.subscribers]) this.unsubscribe(s)
    this.stopTimers()
  }

  private toDead(stored: StoredMessage, reason: string): void {
    stored.state = 'dead'
    stored.lastError = reason
    this.dead.push(stored)
  }

  private release(stored: StoredMessage): void {
    this.inflight.delete(stored)
    const subscriber = stored.subscriber
    stored.subscriber = undefined
    if (subscriber) {
      subscriber.outstanding--
      if (subscriber.open) this.kick()
    }
  }

  private pushWaiting(stored: StoredMessage): void {
    stored.state = 'waiting'
    let level = this.levels.get(stored.priority)
    if (!level) {
      level = new Deque()
      this.levels.set(stored.priority, level)
      this.priorities.push(stored.priority)
      this.priorities.sort((a, b) => b - a)
      this.ordered = this.priorities.map((p) => this.levels.get(p)!)
    }
    level.push(stored)
    this.waitingCount++
    if (this.subscribers.length > 0) this.kick()
  }

  private popWaiting(): StoredMessage | undefined {
    const ordered = this.ordered
    for (let i = 0; i < ordered.length; i++) {
      const stored = ordered[i]!.shift()
      if (stored) {
        this.waitingCount--
        return stored
      }
    }
    return undefined
  }

  private schedule(stored: StoredMessage): void {
    stored.state = 'delayed'
    this.delayed.push(stored)
    this.armDelayTimer()
  }

  private promoteDue(now: number): void {
    let head = this.delayed.peek()
    while (head && head.availableAt <= now) {
      this.delayed.pop()
      this.pushWaiting(head)
      head = this.delayed.peek()
    }
  }

  private armDelayTimer(): void {
    const head = this.delayed.peek()
    if (!head || this.subscribers.length === 0 || head.availableAt >= this.delayTimerAt) return
    clearTimeout(this.delayTimer)
    this.delayTimerAt = head.availableAt
    const wait = Math.min(Math.max(0, head.availableAt - Date.now()), 2 ** 31 - 1)
    this.delayTimer = setTimeout(() => {
      this.delayTimerAt = Infinity
      this.delayTimer = undefined
      this.promoteDue(Date.now())
      this.armDelayTimer()
    }, wait)
    this.delayTimer.unref()
  }

  private ensureSweep(): void {
    if (this.sweepTimer) return
    const leaseMs = Math.min(...this.subscribers.map((s) => s.leaseMs), 30_000)
    this.sweepTimer = setInterval(() => this.sweepExpired(), Math.max(10, Math.min(1000, leaseMs / 4)))
    this.sweepTimer.unref()
  }

  private sweepExpired(): void {
    const now = Date.now()
    for (const stored of this.inflight.values()) {
      if (stored.leaseExpiresAt <= now) this.requeue(stored, 0, 'lease expired')
    }
    if (this.subscribers.length === 0 && this.inflight.size === 0) this.stopTimers()
  }

  private stopTimers(): void {
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    clearTimeout(this.delayTimer)
    this.delayTimer = undefined
    this.delayTimerAt = Infinity
  }

  private kick(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => this.dispatch())
  }

  private dispatch(): void {
    this.scheduled = false
    const subscribers = this.subscribers
    if (subscribers.length === 0) return
    this.armDelayTimer()
    let delivered = 0
    let idle = 0
    const now = Date.now() // one clock read per slice, not per delivery
    while (this.waitingCount > 0 && idle < subscribers.length) {
      if (delivered >= DISPATCH_SLICE) {
        // let I/O and timers run between slices of a long backlog
        this.scheduled = true
        setImmediate(() => this.dispatch())
        return
      }
      if (this.cursor >= subscribers.length) this.cursor = 0
      const subscriber = subscribers[this.cursor++]!
      if (!subscriber.open || subscriber.outstanding >= subscriber.prefetch) {
        idle++
        continue
      }
      idle = 0
      this.deliver(subscriber, this.popWaiting()!, now)
      delivered++
    }
  }

  private deliver(subscriber: MemorySubscriber, stored: StoredMessage, now: number): void {
    stored.state = 'inflight'
    stored.attempts++
    stored.token++
    stored.subscriber = subscriber
    stored.leaseExpiresAt = now + subscriber.leaseMs
    subscriber.outstanding++
    this.inflight.add(stored)
    const lease = new MemoryLease(this, stored, stored.token, toMessage(this.name, stored))
    try {
      subscriber.handler(lease)
    } catch {
      void lease.nack()
    }
  }
}

/** A private copy (the caller may reuse its buffer); allocUnsafe + set beats Buffer.from(buffer). */
function copy(source: Buffer): Buffer {
  const out = Buffer.allocUnsafe(source.length)
  out.set(source)
  return out
}

export function toMessage(queue: string, stored: StoredMessage): Message {
  const message: Message = {
    id: stored.id,
    queue,
    payload: stored.payload,
    headers: stored.headers,
    attempts: stored.attempts,
    state: stored.state,
    priority: stored.priority,
    enqueuedAt: stored.enqueuedAt,
    availableAt: stored.availableAt,
  }
  if (stored.name !== undefined) message.name = stored.name
  if (stored.contentType !== undefined) message.contentType = stored.contentType
  if (stored.lastError !== undefined) message.lastError = stored.lastError
  return message
}
