// Consuming a BullMQ queue as leases: a BullMQ Worker in manual mode (no processor; getNextJob),
// so a lease can be settled whenever the handler decides. The lock is the lease (lockDuration =
// leaseMs, not renewed); BullMQ's stalled checker returns jobs whose lock expired. The Worker
// outlives the subscription until its last lease is settled, because settling goes through it.
import {randomUUID} from 'node:crypto'
import type {Job} from 'bullmq'
import type {ConsumeOptions, LeaseHandler, Subscription} from '../../contract.js'
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

  return startLoop({
    prefetch: options.prefetch,
    handler,
    reconnectMs: options.reconnectMs,
    onConnection: options.onConnection,
    maxIdleMs: 50,
    describeError: (error) => error as Error,
    fetch: async (n) => {
      const out = []
      // several moveToActive calls in flight at once, as BullMQ's own Worker does at concurrency > 1
      const tokens = Array.from({length: Math.min(n, FETCH_PARALLEL)}, () => randomUUID())
      const jobs = await Promise.all(tokens.map((token) => worker.getNextJob(token, {block: false}) as Promise<Job | undefined>))
      for (let i = 0; i < jobs.length; i++) {
        const job = jobs[i]
        const token = tokens[i]!
        if (!job) continue
        outstanding++
        const after = (p: Promise<unknown>) => p.finally(settled).then(() => undefined)
        out.push({
          message: fromJob(display, job, 'inflight'),
          ops: {
            ack: () => after(job.moveToCompleted(null, token, false)),
            nack: (o?: {delayMs?: number}) =>
              after(o?.delayMs ? job.moveToDelayed(Date.now() + o.delayMs, token) : job.moveToWait(token)),
            deadLetter: (reason: string) => after(job.moveToFailed(new UnrecoverableError(reason), token, false)),
            extend: async (ms: number) => {
              await job.extendLock(token, ms)
            },
          },
        })
      }
      return out
    },
    dispose: async () => {
      stopping = true
      if (outstanding === 0) await close(false)
    },
  })
}
