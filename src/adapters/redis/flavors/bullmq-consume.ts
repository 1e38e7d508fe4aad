// Consuming a BullMQ queue as leases: a BullMQ Worker in manual mode (no processor; getNextJob),
// so a lease can be settled whenever the handler decides. The lock is the lease (lockDuration =
// leaseMs, not renewed); BullMQ's stalled checker returns jobs whose lock expired. The Worker
// outlives the subscription until its last lease is settled, because settling goes through it.
import {randomUUID} from 'node:crypto'
import type {Job, UnrecoverableError, Worker} from 'bullmq'
import type {ConsumeOptions, LeaseHandler, Message, Subscription} from '../../../broker/contract.js'
import type {SettleOps} from '../../../broker/kit/lease.js'
import {Waker} from '../../../broker/kit/subscription.js'
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
    fetch: (n) => leases.fetch(n),
    dispose: () => leases.dispose(),
  })
}

/** The leases one Worker hands out; it stays open until the last of them is settled. */
class WorkerLeases {
  private outstanding = 0
  private stopping = false
  private closed: Promise<void> | undefined
  // An ack also takes the next job in the same round trip (moveToFinished with fetchNext, as
  // BullMQ's own Worker does). Such jobs wait in `ready` until the loop asks for more; `pending`
  // counts acks whose next job has not landed yet, so leases + ready + pending never pass prefetch.
  private readonly ready: {job: Job; token: string}[] = []
  private pending = 0
  private readonly landed = new Waker()
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

  private giveBack(job: Job, token: string): Promise<unknown> {
    return job.moveToWait(token).catch(() => {}).finally(this.settled)
  }

  private async ack(job: Job, token: string): Promise<void> {
    if (this.stopping) {
      await job.moveToCompleted(null, token, false)
      return
    }
    this.pending++
    try {
      const next = await job.moveToCompleted(null, token, true)
      const found = Array.isArray(next) && next[0] ? await this.toNextJob(next[0], next[1], token) : undefined
      if (!found) return
      this.outstanding++
      if (this.stopping) void this.giveBack(found, token)
      else this.ready.push({job: found, token})
    } finally {
      this.pending--
      this.landed.wake()
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
    // all the room is taken by acks still bringing their next job: wait for one to land (or a
    // little while, so a stuck ack cannot hold the loop)
    if (this.ready.length === 0 && this.pending >= n) await this.landed.wait(50)
    const out = this.ready.splice(0, n).map(({job, token}) => this.lease(job, token))
    // several moveToActive calls in flight at once, as BullMQ's own Worker does at concurrency > 1
    const want = Math.min(n - out.length - this.pending, FETCH_PARALLEL)
    if (want <= 0) return out
    const tokens = Array.from({length: want}, () => randomUUID())
    const jobs = await Promise.all(tokens.map((token) => this.worker.getNextJob(token, {block: false}) as Promise<Job | undefined>))
    jobs.forEach((job, i) => {
      if (!job) return
      this.outstanding++
      out.push(this.lease(job, tokens[i]!))
    })
    return out
  }

  async dispose(): Promise<void> {
    this.stopping = true
    // jobs an ack brought in that no handler has seen yet go back to wait
    for (const {job, token} of this.ready.splice(0)) void this.giveBack(job, token)
    if (this.outstanding === 0) await this.close(false)
  }
}
