// Consuming a BullMQ queue as leases: a BullMQ Worker in manual mode (no processor; getNextJob),
// so a lease can be settled whenever the handler decides. The lock is the lease (lockDuration =
// leaseMs, not renewed); BullMQ's stalled checker returns jobs whose lock expired. The Worker
// outlives the subscription until its last lease is settled, because settling goes through it.
import {randomUUID} from 'node:crypto'
import type {Job, UnrecoverableError, Worker} from 'bullmq'
import type {ConsumeOptions, LeaseHandler, Message, Subscription} from '../../../broker/contract.js'
import type {SettleOps} from '../../../broker/kit/lease.js'
import {startLoop} from '../consumer.js'
import type {FlavorContext} from '../flavor.js'
import {fromJob} from './bullmq-job.js'
import {leaseMsOf} from './shared.js'

type Closer = (force: boolean) => Promise<void>
const FETCH_PARALLEL = 50
const workersOf = new WeakMap<FlavorContext, Set<Closer>>()

/** Force-closes every worker this context still holds (broker.close()). */
export async function closeWorkers(ctx: FlavorContext): Promise<void> {
  const set = workersOf.get(ctx)
  if (!set) return
  await Promise.allSettled([...set].map((close) => close(true)))
  set.clear()
}

export async function consumeBullmq(
  ctx: FlavorContext,
  display: string,
  queueName: string,
  prefix: string,
  handler: LeaseHandler,
  options: ConsumeOptions,
): Promise<Subscription> {
  const bullmq = await import('bullmq')
  const leaseMs = options.leaseMs ?? leaseMsOf(ctx)
  const connection = await ctx.duplicate()
  const worker = new bullmq.Worker(queueName, null, {
    connection,
    prefix,
    autorun: false,
    lockDuration: leaseMs,
    stalledInterval: Math.max(100, Math.min(30_000, Math.floor(leaseMs / 2))),
    maxStalledCount: Number(ctx.params.get('maxStalled') ?? 1),
    skipVersionCheck: true,
  })
  worker.on('error', () => {}) // surfaced through fetch failures instead
  await worker.waitUntilReady()
  await worker.startStalledCheckTimer()
  const set = workersOf.get(ctx) ?? new Set<Closer>()
  workersOf.set(ctx, set)
  const leases = new WorkerLeases(display, worker, bullmq.UnrecoverableError, async (force) => {
    set.delete(leases.close)
    await worker.close(force).catch(() => {})
    connection.disconnect()
  })
  set.add(leases.close)
  return startLoop(handler, options, {
    maxIdleMs: 50,
    attach: (loop) => (leases.loop = loop),
    coming: () => leases.coming,
    fetch: (n) => leases.fetch(n),
    dispose: () => leases.dispose(),
  })
}

type Loop = {deliver(item: {message: Message; ops: SettleOps}): void; wake(): void}

/**
 * The leases one Worker hands out; it stays open until the last of them is settled. An ack also
 * takes the next job in the same round trip (moveToFinished with fetchNext, as BullMQ's own Worker
 * does), handed straight to the handler through the loop; `coming` counts such acks under way,
 * which the loop leaves room for, so leases + coming never pass prefetch.
 */
class WorkerLeases {
  private outstanding = 0
  private stopping = false
  private closed: Promise<void> | undefined
  private drained = false
  coming = 0
  loop: Loop | undefined
  /** The worker's own step from raw job data to a Job (what getNextJob runs after moveToActive). */
  private readonly toNextJob: (data: unknown, id: unknown, token: string) => Promise<Job | undefined>

  constructor(
    private readonly display: string,
    private readonly worker: Worker,
    private readonly Unrecoverable: typeof UnrecoverableError,
    private readonly release: Closer,
  ) {
    const own = worker as unknown as {nextJobFromJobData(data: unknown, id: unknown, token: string): Promise<Job | undefined>}
    this.toNextJob = own.nextJobFromJobData.bind(worker)
  }

  readonly close: Closer = (force) => (this.closed ??= this.release(force))

  private readonly settled = async () => {
    this.outstanding--
    if (this.stopping && this.outstanding === 0) await this.close(false)
  }

  private async ack(job: Job, token: string): Promise<void> {
    const loop = this.loop
    if (this.stopping || !loop) {
      await job.moveToCompleted(null, token, false)
      return
    }
    this.coming++
    let found: Job | undefined
    try {
      const next = await job.moveToCompleted(null, token, true)
      found = Array.isArray(next) && next[0] ? await this.toNextJob(next[0], next[1], token) : undefined
      if (found) this.outstanding++
    } finally {
      this.coming--
      // once closed, the loop nacks what it is handed (back to wait), so nothing is stranded
      if (found) loop.deliver(this.lease(found, token))
      else loop.wake()
    }
  }

  private lease(job: Job, token: string): {message: Message; ops: SettleOps} {
    const after = (p: Promise<unknown>) => p.finally(this.settled).then(() => undefined)
    return {
      message: fromJob(this.display, job, 'inflight'),
      ops: {
        ack: () => after(this.ack(job, token)),
        nack: (o?: {delayMs?: number}) => after(o?.delayMs ? job.moveToDelayed(Date.now() + o.delayMs, token) : job.moveToWait(token)),
        deadLetter: (reason: string) => after(job.moveToFailed(new this.Unrecoverable(reason), token, false)),
        extend: async (ms: number) => {
          await job.extendLock(token, ms)
        },
      },
    }
  }

  async fetch(n: number): Promise<{message: Message; ops: SettleOps}[]> {
    // several moveToActive calls in flight at once, as BullMQ's own Worker does at concurrency > 1;
    // once wait ran dry, one probes it (not a burst of empty ones) until it has jobs again
    const want = this.drained ? 1 : Math.min(n, FETCH_PARALLEL)
    const tokens = Array.from({length: want}, () => randomUUID())
    const jobs = await Promise.all(tokens.map((token) => this.worker.getNextJob(token, {block: false}) as Promise<Job | undefined>))
    const out: {message: Message; ops: SettleOps}[] = []
    jobs.forEach((job, i) => {
      if (!job) return
      this.outstanding++
      out.push(this.lease(job, tokens[i]!))
    })
    this.drained = out.length < want
    return out
  }

  async dispose(): Promise<void> {
    this.stopping = true
    if (this.outstanding === 0) await this.close(false)
  }
}
