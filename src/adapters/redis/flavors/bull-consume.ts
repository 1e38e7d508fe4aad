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

/**
 * The jobs bull's moveToCompleted took for us as it completed one: what bull's own worker does
 * (complete and fetch the next in one script, the job locked with our token), so a busy consumer
 * makes one round trip a job instead of two. They wait here for the loop's next fetch. An ack asks
 * for a next job only while what is held and coming stays under the prefetch; once the
 * subscription closes none is asked for, and one that arrives after is put back at the front.
 */
class NextJobs {
  private readonly held: {job: BullJob; started: number}[] = []
  private coming = 0
  private arrived: (() => void) | undefined
  closed = false

  constructor(
    private readonly queue: BullQueue,
    private readonly cap: number,
  ) {}

  async complete(job: BullJob): Promise<void> {
    if (this.closed || this.held.length + this.coming >= this.cap) {
      await job.moveToCompleted(undefined, false, true)
      return
    }
    this.coming++
    let next: {job: BullJob; started: number} | null = null
    try {
      const reply = (await job.moveToCompleted(undefined, false, false)) as [Record<string, string>, string] | [] | 0
      if (reply && reply[0]) {
        const [hash, id] = reply
        // a job bull cannot read stays active: its stalled check returns it, then fails it
        const taken = await (async () => this.queue.nextJobFromJobData(hash, id))().catch(skipUnreadable)
        // deliveries, which bull does not count: BullMQ's field, counted here as moveToActive's path does
        if (taken) {
          next = {job: taken, started: (Number(hash.attemptsStarted) || 0) + 1}
          void runScript(this.queue.client, COUNT_STARTS, ['1', this.queue.toKey(String(taken.id))], []).catch(() => {})
        }
      }
    } finally {
      this.coming--
      if (next && !this.closed) this.held.push(next)
      this.arrived?.()
    }
    if (next && this.closed) await requeue(this.queue, next.job, true)
  }

  /**
   * Up to n held jobs, and how many more to take with moveToActive: the room the completions under
   * way will not fill. With none held, no room left and some coming, waits for the first to land.
   */
  async take(n: number): Promise<{held: {job: BullJob; started: number}[]; more: number}> {
    if (this.held.length === 0 && this.coming >= n) {
      await new Promise<void>((resolve) => (this.arrived = resolve))
      this.arrived = undefined
    }
    const held = this.held.splice(0, n)
    return {held, more: Math.max(0, n - held.length - this.coming)}
  }

  /** Closing: the held jobs go back to the front of wait. */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.held.splice(0).map(({job}) => requeue(this.queue, job, true).catch(() => {})))
  }
}

function leaseOf(display: string, queue: BullQueue, job: BullJob, started: number, next: NextJobs) {
  return {
    message: fromBullJob(display, job, 'inflight', started),
    ops: {
      ack: () => next.complete(job),
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
  const next = new NextJobs(queue, Math.max(1, options.prefetch))
  void queue.updateDelayTimer() // bull's own timer: due delayed jobs move to wait until close()

  return startLoop(handler, options, {
    maxIdleMs: 50,
    upkeepMs: stalledInterval,
    upkeep: () => queue.moveUnlockedJobsToWait(),
    fetch: async (n) => {
      const {held, more} = await next.take(n)
      const leases = held.map(({job, started}) => leaseOf(display, queue, job, started, next))
      const want = Math.min(more, FETCH_PARALLEL)
      if (want === 0) return leases
      const got = (await Promise.all(Array.from({length: want}, () => queue.moveToActive().catch(skipUnreadable)))).filter((j): j is BullJob => Boolean(j))
      if (got.length === 0) return leases
      // deliveries, which bull does not count (attemptsMade counts failures): BullMQ's field name,
      // counted for the whole batch in one script call rather than one HINCRBY a job
      const keys = got.map((job) => queue.toKey(String(job.id)))
      const counts = (await runScript(queue.client, COUNT_STARTS, [String(keys.length), ...keys], [])) as number[]
      return [...leases, ...got.map((job, i) => leaseOf(display, queue, job, Number(counts[i] ?? 1), next))]
    },
    // settling goes through the job's queue, which stays usable after close (it owns no connection)
    dispose: async () => {
      await next.close()
      await queue.close()
    },
  })
}
