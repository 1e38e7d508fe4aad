// Consuming a Bull queue as leases, with Bull's own lock and stalled-job semantics: each
// subscription is a bull Queue (its own lock token) that takes jobs with bull's moveToActive
// (lock = the lease: lockDuration = leaseMs, not renewed), runs bull's stalled check
// (moveUnlockedJobsToWait: an unlocked active job goes back to wait, or fails after maxStalledCount)
// and bull's delay timer (due delayed jobs to wait). Settling is bull's: moveToCompleted,
// moveToFailed, moveToDelayed, extendLock, and its retryJob script (active → wait) for a nack.
import type {ConsumeOptions, LeaseHandler, NackOptions, Subscription} from '../../../broker/contract.js'
import {startLoop} from '../consumer.js'
import {runScript, type ScriptDef} from '../scripts.js'
import type {FlavorContext} from '../flavor.js'
import {fromBullJob, type BullJob} from './bull-job.js'
import {makeBullQueue, type BullQueue} from './bull-queue.js'
import {leaseMsOf} from './shared.js'

const FETCH_PARALLEL = 50

// KEYS (as many as jobs taken, the count first): their hashes. Each delivery counted as HINCRBY counts it.
const COUNT_STARTS: ScriptDef = {
  name: 'queuectlBullCountStarts',
  lua: `local out = {}
for i = 1, #KEYS do out[i] = redis.call('HINCRBY', KEYS[i], 'attemptsStarted', 1) end
return out`,
}

/**
 * A job whose hash bull cannot parse (broken opts/data JSON) must not end the subscription: it
 * stays active without a handler, and bull's stalled check returns it, then fails it.
 */
function skipUnreadable(error: unknown): null {
  if (error instanceof SyntaxError) return null
  throw error
}

/** bull's retryJob script: the leased job back to wait (or paused), lock checked and released. */
async function requeue(queue: BullQueue, job: BullJob, front: boolean): Promise<void> {
  const id = String(job.id)
  const keys = ['active', 'wait', id, 'meta-paused', 'paused', 'stalled', 'priority'].map((k) => queue.toKey(k))
  const run = queue.client.retryJob as (args: string[]) => Promise<number>
  const code = await run.call(queue.client, [...keys, front ? 'RPUSH' : 'LPUSH', id, queue.token])
  if (code < 0) throw new Error(`Bull job ${id} could not go back to wait (code ${code}: its lock was lost)`)
}

function leaseOf(display: string, queue: BullQueue, job: BullJob, started: number) {
  return {
    message: fromBullJob(display, job, 'inflight', started),
    ops: {
      ack: async () => {
        await job.moveToCompleted(undefined, false, true)
      },
      nack: async (o?: NackOptions) => {
        if (o?.delayMs) await job.moveToDelayed(Date.now() + o.delayMs)
        else await requeue(queue, job, !o?.failed)
      },
      deadLetter: async (reason: string) => {
        job.discard() // no automatic retry left: straight to failed, as a discarded job in bull
        await job.moveToFailed({message: reason})
      },
      extend: async (ms: number) => {
        await job.extendLock(ms)
      },
    },
  }
}

export async function consumeBull(
  ctx: FlavorContext,
  display: string,
  prefix: string,
  name: string,
  handler: LeaseHandler,
  options: ConsumeOptions,
): Promise<Subscription> {
  const leaseMs = options.leaseMs ?? leaseMsOf(ctx)
  const stalledInterval = Math.max(100, Math.min(30_000, Math.floor(leaseMs / 2)))
  const queue = await makeBullQueue(ctx, prefix, name, {
    lockDuration: leaseMs,
    stalledInterval,
    maxStalledCount: Number(ctx.params.get('maxStalled') ?? 1),
    guardInterval: 1000,
  })
  await queue.moveUnlockedJobsToWait()
  void queue.updateDelayTimer() // bull's own timer: due delayed jobs move to wait until close()

  return startLoop(handler, options, {
    maxIdleMs: 50,
    upkeepMs: stalledInterval,
    upkeep: () => queue.moveUnlockedJobsToWait(),
    fetch: async (n) => {
      const want = Math.min(n, FETCH_PARALLEL)
      const got = (await Promise.all(Array.from({length: want}, () => queue.moveToActive().catch(skipUnreadable)))).filter((j): j is BullJob => Boolean(j))
      if (got.length === 0) return []
      // deliveries, which bull does not count (attemptsMade counts failures): BullMQ's field name,
      // counted for the whole batch in one script call rather than one HINCRBY a job
      const keys = got.map((job) => queue.toKey(String(job.id)))
      const counts = (await runScript(queue.client, COUNT_STARTS, [String(keys.length), ...keys], [])) as number[]
      return got.map((job, i) => leaseOf(display, queue, job, Number(counts[i] ?? 1)))
    },
    // settling goes through the job's queue, which stays usable after close (it owns no connection)
    dispose: () => queue.close(),
  })
}
