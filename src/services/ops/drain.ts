// Taking messages off a queue safely, for move, retry (dead-letter queue → source) and
// export --consume: consume with a bounded prefetch, hand a batch to the sink (enqueue elsewhere,
// write to stdout), and ack the batch only after the sink confirmed it. A crash or a broker dying
// in between leaves the messages leased, so the broker redelivers them: a duplicate at worst,
// never a loss, and re-running the command finishes the job.
// Leases are short (LEASE_MS) and kept alive while we hold them, so a message whose lease is lost
// (a crash, an SQS poll that answered a dead process) is back within seconds, not minutes.
import type {Broker, Lease, Message, Subscription} from '../../broker/contract.js'

export interface DrainOptions {
  /** Take at most this many (matching) messages. */
  limit?: number
  batchSize: number
  /** Stop when nothing arrived for this long: the queue is drained (or the rest is held by others). */
  idleMs: number
  /** Only these are taken; the others are held until the end and handed back untouched. */
  filter?: (message: Message) => boolean
  /** Most non-matching messages held at once (they count against the prefetch). */
  maxHeld?: number
  signal?: AbortSignal
  onProgress?: (report: DrainReport) => void
  /** The sink confirms batches later (see Sink): hold more of them leased meanwhile. */
  confirming?: boolean
}

export interface DrainReport {
  /** Confirmed by the sink and acked at the source. */
  done: number
  /** Handed to the sink, which failed: handed back to the source (they may exist at the destination too). */
  failed: number
  /** Did not match the filter: handed back untouched. */
  skipped: number
  stoppedBy: 'limit' | 'idle' | 'interrupted' | 'error'
  error?: Error
}

/**
 * Takes a batch; resolves once it holds it. A sink whose taking does not prove delivery (a pipe
 * takes bytes its reader may never read) resolves with `confirmed`, settled later: the batch is
 * acked once it resolves, handed back if it rejects, and the drain takes more meanwhile.
 */
export type Sink = (messages: Message[]) => Promise<void | {confirmed: Promise<void>}>

/** Batches a confirming sink may hold unconfirmed: the prefetch is this many batches. */
const CONFIRM_AHEAD = 20

/** Send a partial batch once no message arrived for this long. */
const LINGER_MS = 10
/** The lease asked for; held leases are extended every third of it, where the broker can. */
const LEASE_MS = 30_000
/** Long polls (SQS) of at most this: the drain stops on idleness, and closing waits for a poll. */
const POLL_WAIT_MS = 1000

export async function drainQueue(broker: Broker, queue: string, sink: Sink, options: DrainOptions): Promise<DrainReport> {
  const drain = new Drain(sink, options)
  // leases are kept alive where they can be; elsewhere they do not expire (AMQP) or cannot be helped
  const {extend} = await broker.capabilitiesOf(queue)
  const sub = await broker.consume(queue, (lease) => drain.take(lease), {prefetch: drain.prefetch, leaseMs: LEASE_MS, pollWaitMs: POLL_WAIT_MS})
  return drain.run(sub, extend)
}

/** One drain's state: the leases it holds, waiting for the sink, held back by the filter or being handed back. */
class Drain {
  readonly report: DrainReport = {done: 0, failed: 0, skipped: 0, stoppedBy: 'idle'}
  /** Leases asked of the broker: two batches' worth (or CONFIRM_AHEAD), the limit at most, plus the held. */
  readonly prefetch: number
  private readonly limit: number
  private readonly pending: Lease[] = []
  private readonly held: Lease[] = []
  private taken = 0
  private stopping = false
  private lastArrival = Date.now()
  private wake: (() => void) | undefined
  /** Hand-backs of messages that came after the limit: awaited before returning. */
  private readonly returning = new Set<Promise<void>>()
  /** Leases taken and not yet settled: kept alive until they are. */
  private readonly live = new Set<Lease>()
  /** Batches a confirming sink took and has not confirmed yet. */
  private readonly confirming = new Set<Promise<void>>()
  private refused: Error | undefined
  private lost: Error | undefined
  private readonly poke = () => this.wake?.()

  constructor(
    private readonly sink: Sink,
    private readonly options: DrainOptions,
  ) {
    this.limit = options.limit ?? Infinity
    const maxHeld = options.filter ? (options.maxHeld ?? 1000) : 0
    // two batches' worth: the next batch arrives while the current one is being copied
    const ahead = options.confirming ? CONFIRM_AHEAD : 2
    this.prefetch = Math.max(1, Math.min(options.batchSize * ahead, this.limit === Infinity ? options.batchSize * ahead : this.limit)) + maxHeld
  }

  /** The consumer's handler: a lease to send, to hold back (filtered out), or to hand back (past the limit). */
  take(lease: Lease): void {
    this.lastArrival = Date.now()
    if (this.stopping || this.taken >= this.limit) {
      const back = lease.nack().catch(() => {})
      this.returning.add(back)
      void back.finally(() => this.returning.delete(back))
      return
    }
    this.live.add(lease)
    if (this.options.filter && !this.options.filter(lease.message)) {
      this.held.push(lease)
      this.report.skipped++
    } else {
      this.pending.push(lease)
      this.taken++
    }
    this.poke()
  }

  async run(sub: Subscription, extend: boolean): Promise<DrainReport> {
    const {signal} = this.options
    const keepAlive = setInterval(() => {
      if (extend) for (const lease of this.live) void lease.extend(LEASE_MS).catch(() => {})
    }, LEASE_MS / 3)
    void sub.closed.then((error) => {
      if (error) this.lost = error
      this.poke()
    })
    signal?.addEventListener('abort', this.poke, {once: true})
    try {
      await this.loop()
      // what the sink took and has yet to confirm: confirmed (acked) or refused (handed back)
      while (this.confirming.size > 0) await Promise.allSettled([...this.confirming])
      if (this.refused && !this.report.error) this.stopOn(this.refused)
    } finally {
      this.stopping = true
      signal?.removeEventListener('abort', this.poke)
      // closing first: on SQS, a message handed back while one of our polls is still open would
      // fall into that poll and stay hidden for its lease
      await sub.close().catch(() => {})
      await Promise.allSettled([...this.pending.splice(0), ...this.held.splice(0)].map((l) => this.settle(l, 'nack')))
      await Promise.allSettled([...this.returning])
      clearInterval(keepAlive)
    }
    return this.report
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.shouldStop()) return
      if (this.pending.length === 0) {
        const idleFor = Date.now() - this.lastArrival
        if (idleFor >= this.options.idleMs) return
        await this.sleep(Math.min(this.options.idleMs - idleFor, 250))
        continue
      }
      await this.fillBatch()
      if (!(await this.hand(this.pending.splice(0, this.options.batchSize)))) return
    }
  }

  /** Interrupted, at the limit, or the subscription or the sink failed: says why in the report. */
  private shouldStop(): boolean {
    if (this.options.signal?.aborted) {
      this.report.stoppedBy = 'interrupted'
      return true
    }
    if (this.pending.length === 0 && this.taken >= this.limit) {
      this.report.stoppedBy = 'limit'
      return true
    }
    const error = this.lost ?? this.refused
    if (error) this.stopOn(error)
    return error !== undefined
  }

  private stopOn(error: Error): void {
    this.report.stoppedBy = 'error'
    this.report.error = error
  }

  /** Fills the batch while messages keep coming; sends what there is once they pause. */
  private async fillBatch(): Promise<void> {
    const {options} = this
    while (this.pending.length < options.batchSize && this.taken < this.limit && !options.signal?.aborted && !this.lost) {
      const quiet = Date.now() - this.lastArrival
      if (quiet >= LINGER_MS) break
      await this.sleep(LINGER_MS - quiet)
    }
  }

  /** Waits `ms`, or less when a lease arrives or the drain must stop. */
  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve
      setTimeout(resolve, ms)
    })
    this.wake = undefined
  }

  /** Gives a batch to the sink and acks it once the sink holds it; false when the drain must stop. */
  private async hand(batch: Lease[]): Promise<boolean> {
    let taking
    try {
      taking = await this.sink(batch.map((l) => l.message))
    } catch (error) {
      this.report.failed += batch.length
      this.stopOn(error as Error)
      await Promise.allSettled(batch.map((l) => this.settle(l, 'nack')))
      return false
    }
    if (taking) {
      this.confirmLater(batch, taking.confirmed)
      return true
    }
    const failedAck = await this.ackBatch(batch)
    if (failedAck) this.stopOn(failedAck)
    return failedAck === undefined
  }

  /** A confirming sink's batch: acked once confirmed, handed back if refused; the drain goes on meanwhile. */
  private confirmLater(batch: Lease[], confirmed: Promise<void>): void {
    const later = confirmed.then(
      async () => {
        this.refused ??= await this.ackBatch(batch)
      },
      async (error: Error) => {
        this.refused ??= error
        this.report.failed += batch.length
        await Promise.allSettled(batch.map((l) => this.settle(l, 'nack')))
        this.poke()
      },
    )
    this.confirming.add(later)
    void later.finally(() => this.confirming.delete(later))
  }

  /** Acks a batch the sink holds; resolves with the error of a failed ack, if one failed. */
  private async ackBatch(batch: Lease[]): Promise<Error | undefined> {
    // a failed ack leaves the message leased: it comes back and is copied again (a duplicate)
    const acks = await Promise.allSettled(batch.map((l) => this.settle(l, 'ack')))
    this.report.done += batch.length
    this.options.onProgress?.(this.report)
    const failedAck = acks.find((a) => a.status === 'rejected')
    return failedAck ? ((failedAck as PromiseRejectedResult).reason as Error) : undefined
  }

  private settle(lease: Lease, how: 'ack' | 'nack'): Promise<void> {
    this.live.delete(lease)
    return how === 'ack' ? lease.ack() : lease.nack()
  }
}
