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
  const limit = options.limit ?? Infinity
  const maxHeld = options.filter ? (options.maxHeld ?? 1000) : 0
  const report: DrainReport = {done: 0, failed: 0, skipped: 0, stoppedBy: 'idle'}
  const pending: Lease[] = []
  const held: Lease[] = []
  let taken = 0
  let stopping = false
  let lastArrival = Date.now()
  let wake: (() => void) | undefined
  const poke = () => wake?.()
  /** Hand-backs of messages that came after the limit: awaited before returning. */
  const returning = new Set<Promise<void>>()
  /** Leases taken and not yet settled: kept alive until they are. */
  const live = new Set<Lease>()

  const handler = (lease: Lease) => {
    lastArrival = Date.now()
    if (stopping || taken >= limit) {
      const back = lease.nack().catch(() => {})
      returning.add(back)
      void back.finally(() => returning.delete(back))
      return
    }
    live.add(lease)
    if (options.filter && !options.filter(lease.message)) {
      held.push(lease)
      report.skipped++
    } else {
      pending.push(lease)
      taken++
    }
    poke()
  }
  // two batches' worth: the next batch arrives while the current one is being copied
  const ahead = options.confirming ? CONFIRM_AHEAD : 2
  const prefetch = Math.max(1, Math.min(options.batchSize * ahead, limit === Infinity ? options.batchSize * ahead : limit)) + maxHeld
  /** Batches a confirming sink took and has not confirmed yet. */
  const confirming = new Set<Promise<void>>()
  let refused: Error | undefined
  // leases are kept alive where they can be; elsewhere they do not expire (AMQP) or cannot be helped
  const {extend} = await broker.capabilitiesOf(queue)
  const sub: Subscription = await broker.consume(queue, handler, {prefetch, leaseMs: LEASE_MS, pollWaitMs: POLL_WAIT_MS})
  const keepAlive = setInterval(() => {
    if (extend) for (const lease of live) void lease.extend(LEASE_MS).catch(() => {})
  }, LEASE_MS / 3)
  let lost: Error | undefined
  void sub.closed.then((error) => {
    if (error) lost = error
    poke()
  })
  options.signal?.addEventListener('abort', poke, {once: true})

  try {
    for (;;) {
      if (options.signal?.aborted) {
        report.stoppedBy = 'interrupted'
        break
      }
      if (pending.length === 0 && taken >= limit) {
        report.stoppedBy = 'limit'
        break
      }
      if (lost ?? refused) {
        report.stoppedBy = 'error'
        report.error = lost ?? refused
        break
      }
      if (pending.length === 0) {
        const idleFor = Date.now() - lastArrival
        if (idleFor >= options.idleMs) break
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, Math.min(options.idleMs - idleFor, 250))
        })
        wake = undefined
        continue
      }
      // fill the batch while messages keep coming; send what there is once they pause
      while (pending.length < options.batchSize && taken < limit && !options.signal?.aborted && !lost) {
        const quiet = Date.now() - lastArrival
        if (quiet >= LINGER_MS) break
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, LINGER_MS - quiet)
        })
        wake = undefined
      }
      const batch = pending.splice(0, options.batchSize)
      let taking
      try {
        taking = await sink(batch.map((l) => l.message))
      } catch (error) {
        report.failed += batch.length
        report.stoppedBy = 'error'
        report.error = error as Error
        await Promise.allSettled(batch.map((l) => settle(l, 'nack')))
        break
      }
      if (taking) {
        const later = taking.confirmed.then(
          async () => {
            refused ??= await ackBatch(batch)
          },
          async (error: Error) => {
            refused ??= error
            report.failed += batch.length
            await Promise.allSettled(batch.map((l) => settle(l, 'nack')))
            poke()
          },
        )
        confirming.add(later)
        void later.finally(() => confirming.delete(later))
        continue
      }
      const failedAck = await ackBatch(batch)
      if (failedAck) {
        report.stoppedBy = 'error'
        report.error = failedAck
        break
      }
    }
    // what the sink took and has yet to confirm: confirmed (acked) or refused (handed back)
    while (confirming.size > 0) await Promise.allSettled([...confirming])
    if (refused && !report.error) {
      report.stoppedBy = 'error'
      report.error = refused
    }
  } finally {
    stopping = true
    options.signal?.removeEventListener('abort', poke)
    // closing first: on SQS, a message handed back while one of our polls is still open would
    // fall into that poll and stay hidden for its lease
    await sub.close().catch(() => {})
    await Promise.allSettled([...pending.splice(0), ...held.splice(0)].map((l) => settle(l, 'nack')))
    await Promise.allSettled([...returning])
    clearInterval(keepAlive)
  }
  return report

  /** Acks a batch the sink holds; resolves with the error of a failed ack, if one failed. */
  async function ackBatch(batch: Lease[]): Promise<Error | undefined> {
    // a failed ack leaves the message leased: it comes back and is copied again (a duplicate)
    const acks = await Promise.allSettled(batch.map((l) => settle(l, 'ack')))
    report.done += batch.length
    options.onProgress?.(report)
    const failedAck = acks.find((a) => a.status === 'rejected')
    return failedAck ? ((failedAck as PromiseRejectedResult).reason as Error) : undefined
  }

  function settle(lease: Lease, how: 'ack' | 'nack'): Promise<void> {
    live.delete(lease)
    return how === 'ack' ? lease.ack() : lease.nack()
  }
}
