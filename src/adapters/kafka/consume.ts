// `queue work` on a consumer group: the group's own consumer (classic protocol), offsets committed
// only after ack, and only up to the lowest record still unsettled in each partition, so a crash
// (kill -9) redelivers what was not acked and loses nothing. A nack re-publishes the record to the
// end of its topic (queuectl-attempts + 1); deadLetter publishes it to TOPIC-dlt; both then count
// as done. Acks are committed in small batches, within COMMIT_EVERY_MS of the ack (and on close).
import {Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type Message as KafkaMessage, type MessagesStream} from '@platformatic/kafka'
import type {ConsumeOptions, Lease, LeaseHandler, Message, Subscription} from '../../broker/contract.js'
import {SETTLED, SettleOnce} from '../../broker/kit/lease.js'
import {ClosedSignal, Waker, resumes} from '../../broker/kit/subscription.js'
import {ConnectionError, NotSupportedError} from '../../kernel/errors.js'
import {baseOptions} from './client.js'
import {toMessage, republished, type OutRecord} from './codec.js'
import type {KafkaSettings} from './config.js'
import {requestError} from './errors.js'
import {HEADER, deadLetterTopicOf} from './names.js'
import type {RawRecord} from './offsets.js'

// one commit request per 100 ms at most, as the client's own autocommit interval in the yardstick
// (Kafka's auto.commit.interval.ms is 5 s): at 20 ms a bench sent ~5x the commits for nothing; a
// crash redelivers at most these 100 ms of acks, never loses one
const COMMIT_EVERY_MS = 100
/** A member that stops heartbeating (killed) leaves the group after this: its partitions go to the others. */
const SESSION_MS = 10_000
/** Longest a closed subscription stays in its group waiting for its leases to be settled. */
const LEAVE_GRACE_MS = 30_000

export interface GroupConsumeContext {
  settings: KafkaSettings
  topic: string
  group: string
  queue: string
  /** Re-publishes records (nack, dead letter) with the broker's shared producer. */
  publish(records: OutRecord[]): Promise<void>
}

/** Offsets handed out and not yet settled, per partition; what may be committed. */
class Ledger {
  private open = new Map<number, Set<bigint>>()
  /** The highest settled offset per partition (the commit is one past it). */
  private done = new Map<number, bigint>()
  /** Records handed out and not settled (kept as a count: read at every record and every ack). */
  size = 0

  take(partition: number, offset: bigint): void {
    let set = this.open.get(partition)
    if (!set) this.open.set(partition, (set = new Set()))
    set.add(offset)
    this.size++
  }

  settle(partition: number, offset: bigint): void {
    if (this.open.get(partition)?.delete(offset)) this.size--
    const best = this.done.get(partition)
    if (best === undefined || offset > best) this.done.set(partition, offset)
  }

  /** Partition → the offset to commit: past every settled record, not past an unsettled one. */
  committable(): Map<number, bigint> {
    const out = new Map<number, bigint>()
    for (const [partition, best] of this.done) {
      const done = best + 1n
      let lowest: bigint | undefined
      for (const o of this.open.get(partition) ?? []) if (lowest === undefined || o < lowest) lowest = o
      out.set(partition, lowest !== undefined && lowest < done ? lowest : done)
    }
    return out
  }
}

function rawOf(m: KafkaMessage): RawRecord {
  const headers: Record<string, string> = {}
  for (const [k, v] of m.headers) headers[k.toString('utf8')] = v ? v.toString('utf8') : ''
  return {topic: m.topic, partition: m.partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key?.length ? m.key : null, value: m.value, headers}
}

/**
 * One delivered record; a class (the lease kit's SettleOnce), so a delivery allocates one object,
 * not a lease, its ops and five closures. An ack settles at once: the commit follows within
 * COMMIT_EVERY_MS. A failed nack or dead letter stays claimed, as the kit's onceLease does.
 */
class GroupLease extends SettleOnce implements Lease {
  readonly message: Message

  constructor(
    private readonly sub: GroupSubscription,
    private readonly r: RawRecord,
  ) {
    super()
    this.message = toMessage(sub.queue, r, 'inflight', true)
  }

  ack(): Promise<void> {
    if (!this.claim()) return SETTLED
    try {
      this.sub.settled(this.r)
    } catch (error) {
      return Promise.reject(error)
    }
    return SETTLED
  }

  async nack(): Promise<void> {
    if (!this.claim()) return
    const r = this.r
    const attempts = String((Number(r.headers[HEADER.attempts] ?? 0) || 0) + 1)
    await this.sub.republish([republished(this.sub.topic, r, {[HEADER.attempts]: attempts})])
    this.sub.settled(r)
  }

  async deadLetter(reason: string): Promise<void> {
    if (!this.claim()) return
    const r = this.r
    await this.sub.republish([republished(deadLetterTopicOf(this.sub.topic), r, deadHeaders(r, reason))])
    this.sub.settled(r)
  }

  async extend(): Promise<void> {
    if (this.settled) return
    throw new NotSupportedError('a Kafka consumer group has no per-record lease to extend')
  }
}

export class GroupSubscription implements Subscription {
  readonly signal = new ClosedSignal()
  readonly closed = this.signal.promise
  readonly resumes: boolean
  private readonly ledger = new Ledger()
  private readonly room = new Waker()
  private committed = new Map<number, bigint>()
  private flushing?: Promise<void>
  private stopping = false
  private left = false
  private stream?: MessagesStream<Buffer, Buffer, Buffer, Buffer>
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>

  constructor(
    private readonly ctx: GroupConsumeContext,
    private readonly handler: LeaseHandler,
    private readonly options: ConsumeOptions,
  ) {
    this.resumes = resumes(options)
    this.consumer = new Consumer({...baseOptions(ctx.settings, 'worker'), groupId: ctx.group, autocommit: false, maxWaitTime: 500, sessionTimeout: SESSION_MS, rebalanceTimeout: SESSION_MS, heartbeatInterval: 1000})
  }

  /** Joins in the background: a join waits out a dead member's session (a worker killed with -9), longer than one call may take. */
  start(): void {
    const joined = this.consumer.consume({
      topics: [this.ctx.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    })
    joined.then(
      (stream) => {
        this.stream = stream
        if (this.stopping) return void stream.close().catch(() => {})
        stream.on('error', (error: Error) => this.fail(error))
        this.loop()
      },
      (error) => this.fail(error),
    )
  }

  /**
   * Flowing 'data' events, paused while `prefetch` leases are unsettled (no promise per record),
   * resumed once half of them are settled: the client's resume() starts a fetch of its own each
   * time, so resuming at every ack (as this did) sent a fetch per record once the handlers kept up.
   */
  private loop(): void {
    const stream = this.stream!
    const prefetch = Math.max(1, this.options.prefetch)
    const low = Math.floor(prefetch / 2)
    stream.on('data', (m: KafkaMessage) => {
      if (this.stopping) return
      this.deliver(rawOf(m))
      if (this.ledger.size >= prefetch) stream.pause()
    })
    this.resumeIfRoom = () => {
      if (!this.stopping && this.ledger.size <= low && stream.isPaused()) stream.resume()
    }
  }

  private resumeIfRoom = (): void => {}

  private deliver(r: RawRecord): void {
    this.ledger.take(r.partition, r.offset)
    this.handler(new GroupLease(this, r))
  }

  /** A record settled (acked, or re-published by nack or dead letter): may be committed now. */
  settled(r: RawRecord): void {
    this.ledger.settle(r.partition, r.offset)
    this.room.wake()
    this.resumeIfRoom()
    if (this.left) throw new ConnectionError(`${this.ctx.queue}: the consumer left its group (closed) before this record was settled; it will be delivered again`)
    // committed within COMMIT_EVERY_MS, not awaited: a commit lost to a crash or a rebalance means a redelivery, never a loss
    if (!this.flushing) void this.flushSoon().catch(() => {})
  }

  /** Re-publishes a record (nack: to its topic; dead letter: to TOPIC-dlt) with the broker's producer. */
  republish(records: OutRecord[]): Promise<void> {
    return this.ctx.publish(records)
  }

  get topic(): string {
    return this.ctx.topic
  }

  get queue(): string {
    return this.ctx.queue
  }

  /** Commits what the ledger allows, at most every COMMIT_EVERY_MS; resolves once committed. */
  private flushSoon(): Promise<void> {
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, COMMIT_EVERY_MS)).then(async () => {
      this.flushing = undefined
      await this.commitNow()
    })
    return this.flushing
  }

  private async commitNow(): Promise<void> {
    const offsets = [...this.ledger.committable()].filter(([p, o]) => this.committed.get(p) !== o)
    if (offsets.length === 0) return
    try {
      await this.consumer.commit({offsets: offsets.map(([partition, offset]) => ({topic: this.ctx.topic, partition, offset, leaderEpoch: -1}))})
      for (const [p, o] of offsets) this.committed.set(p, o)
    } catch (error) {
      // a rebalance took the partition: its records come again to whoever owns it now
      throw requestError(error, this.ctx.settings.displayUrl)
    }
  }

  private fail(error: Error): void {
    this.signal.end(requestError(error, this.ctx.settings.displayUrl))
    void this.close()
  }

  /** Stops delivering at once; the group member stays (so acks still commit) until every lease is settled. */
  async close(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.room.wake()
    await this.stream?.close().catch(() => {})
    this.finished = this.finish()
    this.signal.end(undefined)
  }

  /** Resolves once the consumer left its group: every lease settled and committed, or the grace passed. */
  finished?: Promise<void>

  private async finish(): Promise<void> {
    const until = Date.now() + (this.options.leaseMs ?? LEAVE_GRACE_MS)
    while (this.ledger.size > 0 && Date.now() < until) await this.room.wait(100)
    await this.flushing?.catch(() => {})
    await this.commitNow().catch(() => {})
    this.left = true
    await Promise.resolve(this.consumer.close(true)).catch(() => {})
  }
}

function deadHeaders(r: RawRecord, reason: string): Record<string, string> {
  return {
    [HEADER.attempts]: String((Number(r.headers[HEADER.attempts] ?? 0) || 0) + 1),
    [HEADER.reason]: reason.slice(0, 1000),
    [HEADER.topic]: r.topic,
    [HEADER.partition]: String(r.partition),
    [HEADER.offset]: String(r.offset),
    [HEADER.deadAt]: new Date().toISOString(),
  }
}

export async function consumeGroup(ctx: GroupConsumeContext, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  const sub = new GroupSubscription(ctx, handler, options)
  sub.start()
  return sub
}
