// Consuming a BullMQ queue as leases: a BullMQ Worker in manual mode (no processor; getNextJob),
// so a lease can be settled whenever the handler decides. The lock is the lease (lockDuration =
// leaseMs, not renewed); BullMQ's stalled checker returns jobs whose lock expired. The Worker
// outlives the subscription until its last lease is settled, because settling goes through it.
import {randomUUID} from 'node:crypto'
import type {Job} from 'bullmq'
import type {ConsumeOptions, LeaseHandler, Subscription} from '../../../broker/contract.js'
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
  const {Worker, UnrecoverableError} = await import('bullmq')
  const leaseMs = options.leaseMs ?? leaseMsOf(ctx)
  const connection = await ctx.duplicate()
  const worker = new Worker(queueName, null, {
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

  let outstanding = 0
  let stopping = false
  let closed: Promise<void> | undefined
  const set = workersOf.get(ctx) ?? new Set<Closer>()
  workersOf.set(ctx, set)
  const close: Closer = (force) =>
    (closed ??= (async () => {
      set.delete(close)
      await worker.close(force).catch(() => {})
      connection.disconnect()
    })())
  set.add(close)
  const settled = async () => {
    outstanding--
    if (stopping && outstanding === 0) await close(false)
  }

  // An ack also takes the next job in the same round trip (moveToFinished with fetchNext, as
  // BullMQ's own Worker does). Such jobs wait in `ready` until the loop asks for more; `pending`
  // counts acks whose next job has not landed yet, so leases + ready + pending never pass prefetch.
  const ready: {job: Job; token: string}[] = []
  let pending = 0
  let landed: (() => void) | undefined
  // the worker's own step from raw job data to a Job (what getNextJob runs after moveToActive)
  const toNextJob = (worker as unknown as {nextJobFromJobData(data: unknown, id: unknown, token: string): Promise<Job | undefined>}).nextJobFromJobData.bind(worker)
  const giveBack = (job: Job, token: string) => job.moveToWait(token).catch(() => {}).finally(settled)

  const ack = async (job: Job, token: string) => {
    if (stopping) {
      await job.moveToCompleted(null, token, false)
      return
    }
    pending++
    try {
      const next = await job.moveToCompleted(null, token, true)
      const found = Array.isArray(next) && next[0] ? await toNextJob(next[0], next[1], token) : undefined
      if (!found) return
      outstanding++
      if (stopping) void giveBack(found, token)
      else ready.push({job: found, token})
    } finally {
      pending--
      landed?.()
    }
  }

  const lease = (job: Job, token: string) => {
    const after = (p: Promise<unknown>) => p.finally(settled).then(() => undefined)
    return {
      message: fromJob(display, job, 'inflight'),
      ops: {
        ack: () => after(ack(job, token)),
        nack: (o?: {delayMs?: number}) =>
          after(o?.delayMs ? job.moveToDelayed(Date.now() + o.delayMs, token) : job.moveToWait(token)),
        deadLetter: (reason: string) => after(job.moveToFailed(new UnrecoverableError(reason), token, false)),
        extend: async (ms: number) => {
          await job.extendLock(token, ms)
        },
      },
    }
  }

  return startLoop({
    prefetch: options.prefetch,
    handler,
    reconnectMs: options.reconnectMs,
    onConnection: options.onConnection,
    maxIdleMs: 50,
    describeError: (error) => error as Error,
    fetch: async (n) => {
      // all the room is taken by acks still bringing their next job: wait for one to land (or a
      // little while, so a stuck ack cannot hold the loop)
      if (ready.length === 0 && pending >= n) {
        let timer: NodeJS.Timeout | undefined
        await new Promise<void>((resolve) => {
          landed = resolve
          timer = setTimeout(resolve, 50)
        })
        clearTimeout(timer)
        landed = undefined
      }
      const out = ready.splice(0, n).map(({job, token}) => lease(job, token))
      // several moveToActive calls in flight at once, as BullMQ's own Worker does at concurrency > 1
      const want = Math.min(n - out.length - pending, FETCH_PARALLEL)
      if (want <= 0) return out
      const tokens = Array.from({length: want}, () => randomUUID())
      const jobs = await Promise.all(tokens.map((token) => worker.getNextJob(token, {block: false}) as Promise<Job | undefined>))
      jobs.forEach((job, i) => {
        if (!job) return
        outstanding++
        out.push(lease(job, tokens[i]!))
      })
      return out
    },
    dispose: async () => {
      stopping = true
      // jobs an ack brought in that no handler has seen yet go back to wait
      for (const {job, token} of ready.splice(0)) void giveBack(job, token)
      if (outstanding === 0) await close(false)
    },
  })
}
