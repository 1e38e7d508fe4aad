// The consume loop both libraries share: fetch up to the free prefetch with the library's own
// SKIP LOCKED statement, hand each job out as a Lease, poll again when one settles or after an idle
// pause; sweep our expired leases now and then; wait out a lost connection when asked to.
import type {ConsumeOptions, Lease, LeaseHandler, Subscription} from '../../broker/contract.js'
import {isTransient} from '../../kernel/errors.js'

export interface PollSource<J> {
  /** Leases up to `n` jobs. */
  fetch(n: number): Promise<J[]>
  /** Wraps a fetched job; `settled` must be called once it is acked, nacked or dead-lettered. */
  lease(job: J, settled: () => void): Lease
  /** Puts back jobs fetched after close() (never handed out). */
  giveBack(jobs: J[]): Promise<void>
  /** Expires leases held too long (the library's timeout handling), every `sweepEveryMs`. */
  sweep?(): Promise<void>
  sweepEveryMs?: number
  /** Errors as the user should see them. */
  wrap(error: unknown): Error
}

const IDLE_MS = 100
/** First pause after a fetch that found work: a job enqueued just after an empty poll waits ms, not IDLE_MS. */
const IDLE_MIN_MS = 2
const BATCH_MAX = 100

const sleep = (ms: number, wake: {fn?: () => void}) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    wake.fn = () => {
      clearTimeout(timer)
      resolve()
    }
  })

export function pollConsumer<J>(source: PollSource<J>, handler: LeaseHandler, options: ConsumeOptions): Subscription {
  const prefetch = Math.max(1, options.prefetch)
  let open = true
  let outstanding = 0
  // not at start: the sweep frees only this broker's own leases (its worker id), none of which can
  // have expired yet, and it scans the task's rows (graphile has no index on task_id) before the first fetch
  let lastSweep = Date.now()
  // the pause after a short fetch: IDLE_MIN_MS while jobs keep coming, doubling to IDLE_MS while none do
  let idle = IDLE_MIN_MS
  const wake: {fn?: () => void} = {}
  let resolveClosed!: (error: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve))
  const settled = () => {
    outstanding--
    wake.fn?.()
  }

  const round = async (): Promise<void> => {
    if (source.sweep && Date.now() - lastSweep >= (source.sweepEveryMs ?? 30_000)) {
      lastSweep = Date.now()
      await source.sweep()
    }
    const room = Math.min(prefetch - outstanding, BATCH_MAX)
    if (room <= 0) return sleep(IDLE_MS * 5, wake)
    const jobs = await source.fetch(room)
    if (!open) {
      if (jobs.length > 0) await source.giveBack(jobs)
      return
    }
    for (const job of jobs) {
      outstanding++
      handler(source.lease(job, settled))
    }
    if (jobs.length >= room) return
    if (jobs.length > 0) idle = IDLE_MIN_MS
    await sleep(idle, wake)
    if (jobs.length === 0) idle = Math.min(IDLE_MS, idle * 2)
  }

  const loop = (async () => {
    let lostSince: number | undefined
    while (open) {
      try {
        await round()
        if (lostSince !== undefined) {
          lostSince = undefined
          options.onConnection?.('back')
        }
      } catch (raw) {
        const error = source.wrap(raw)
        const budget = options.reconnectMs ?? 0
        if (!isTransient(error) || budget <= 0) return error
        if (lostSince === undefined) {
          lostSince = Date.now()
          options.onConnection?.('lost', error)
        } else if (Date.now() - lostSince > budget) return error
        await sleep(500, wake)
      }
    }
    return undefined
  })()
  void loop.then((error) => {
    open = false
    resolveClosed(error)
  })

  return {
    closed,
    resumes: (options.reconnectMs ?? 0) > 0,
    close: async () => {
      if (!open) return void (await loop)
      open = false
      wake.fn?.()
      await loop
    },
  }
}

/** Collects calls made in one tick into one batch (acks of many leases → one statement). */
export function coalesce<T>(run: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let pending: {items: T[]; done: Promise<void>} | undefined
  return (item) => {
    if (!pending) {
      const batch = {items: [] as T[], done: Promise.resolve()}
      batch.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        pending = undefined
        return run(batch.items)
      })
      pending = batch
    }
    pending.items.push(item)
    return pending.done
  }
}

/** A Lease that settles once: later calls are no-ops. */
export function onceLease(message: Lease['message'], ops: {
  ack(): Promise<void>
  nack(options?: {delayMs?: number; failed?: boolean}): Promise<void>
  deadLetter(reason: string): Promise<void>
  extend(ms: number): Promise<void>
}, settled: () => void): Lease {
  let done = false
  const settle = async (work: () => Promise<void>) => {
    if (done) return
    done = true
    // the slot frees as the handler settles, not when the statement returns: the next fetch
    // overlaps this tick's completions (as graphile-worker's local queue refills while they run)
    settled()
    await work()
  }
  return {
    message,
    ack: () => settle(() => ops.ack()),
    nack: (options) => settle(() => ops.nack(options)),
    deadLetter: (reason) => settle(() => ops.deadLetter(reason)),
    extend: async (ms) => {
      if (!done) await ops.extend(ms)
    },
  }
}
