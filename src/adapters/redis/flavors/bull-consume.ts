// Consuming a Bull queue as leases, with Bull's own lock and stalled-job semantics: each
// subscription is a bull Queue (its own lock token) that takes jobs with bull's moveToActive
// (lock = the lease: lockDuration = leaseMs, not renewed), runs bull's stalled check
// (moveUnlockedJobsToWait: an unlocked active job goes back to wait, or fails after maxStalledCount)
// and bull's delay timer (due delayed jobs to wait). Settling is bull's: moveToCompleted,
// moveToFailed, moveToDelayed, extendLock, and its retryJob script (active → wait) for a nack.
import type {ConsumeOptions, LeaseHandler, Message, NackOptions, Subscription} from '../../../broker/contract.js'
import type {SettleOps} from '../../../broker/kit/lease.js'
import {startLoop} from '../consumer.js'
import {runScript, type ScriptDef} from '../scripts.js'
import type {FlavorContext} from '../flavor.js'
import {fromBullJob, type BullJob} from './bull-job.js'
import {bullScripts, makeBullQueue, type BullQueue, type BullScripts} from './bull-queue.js'
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

// the line of bull's moveToFinished that marks the next job it takes as started
const PROCESSED_ON = 'rcall("HSET", jobKey, "processedOn", ARGV[2])'

/**
 * bull's own moveToFinished (read from the connection bull defined it on) with one line more: the
 * next job it takes has its delivery counted (HINCRBY attemptsStarted) in the same script, so a
 * completion is one script a job instead of two. Undefined when this bull's script has no such line.
 */
function finishAndCountOf(queue: BullQueue): ScriptDef | undefined {
  const lua = (queue.client as {scriptsSet?: Record<string, {lua?: string} | undefined>}).scriptsSet?.moveToFinished?.lua
  if (!lua || lua.split(PROCESSED_ON).length !== 2) return undefined
  return {name: 'queuectlBullFinishCountNext', keys: 9, lua: lua.replace(PROCESSED_ON, `${PROCESSED_ON}\n            rcall("HINCRBY", jobKey, "attemptsStarted", 1)`)}
}

type Loop = {deliver(item: {message: Message; ops: SettleOps}): void; wake(): void}
type Next = {job: BullJob; started: number}

/**
 * Completions that also take the next job (what bull's own worker does: complete and fetch the next
 * in one script, the job locked with our token), handed straight to the handler through the loop,
 * so the prefetch slots stay full without a poll round. `coming` counts the completions under way,
 * which the loop leaves room for; once the subscription closes none takes a next job.
 */
class Completions {
  coming = 0
  closed = false
  loop: Loop | undefined

  constructor(
    private readonly display: string,
    private readonly queue: BullQueue,
    private readonly scripts: BullScripts | undefined,
    private readonly finishAndCount: ScriptDef | undefined,
  ) {}

  async complete(job: BullJob): Promise<void> {
    const loop = this.loop
    if (this.closed || !loop) {
      await job.moveToCompleted(undefined, false, true)
      return
    }
    this.coming++
    let next: Next | null = null
    try {
      next = await this.completeAndTake(job)
    } finally {
      this.coming--
      // a job bull cannot read stays active: its stalled check returns it, then fails it
      if (next) loop.deliver(leaseOf(this.display, this.queue, next.job, next.started, this))
      else loop.wake()
    }
  }

  private async completeAndTake(job: BullJob): Promise<Next | null> {
    if (!this.scripts || !this.finishAndCount) return this.completeThenCount(job)
    // Job#moveToCompleted's own steps, with the script that also counts the next job's delivery
    job.finishedOn = Date.now()
    const args = this.scripts.moveToFinishedArgs(job, undefined, 'returnvalue', job.opts.removeOnComplete, 'completed', false, false)
    const reply = (await runScript(this.queue.client, this.finishAndCount, [], args)) as number | [string[], string]
    if (typeof reply === 'number' && reply < 0) throw this.scripts.finishedErrors(reply, job.id, 'finished', 'active')
    if (!Array.isArray(reply) || reply[0].length === 0) return null
    const hash: Record<string, string> = {}
    for (let i = 0; i + 1 < reply[0].length; i += 2) hash[reply[0][i]!] = reply[0][i + 1]!
    const taken = await this.toJob(hash, reply[1])
    return taken && {job: taken, started: Number(hash.attemptsStarted) || 1}
  }

  /** Without the counting script: bull's moveToCompleted, then the delivery counted on its own. */
  private async completeThenCount(job: BullJob): Promise<Next | null> {
    const reply = (await job.moveToCompleted(undefined, false, false)) as [Record<string, string>, string] | [] | 0
    if (!reply || !reply[0]) return null
    const hash = reply[0]
    const taken = await this.toJob(hash, String(reply[1]))
    if (!taken) return null
    void runScript(this.queue.client, COUNT_STARTS, ['1', this.queue.toKey(String(taken.id))], []).catch(() => {})
    return {job: taken, started: (Number(hash.attemptsStarted) || 0) + 1}
  }

  private toJob(hash: Record<string, string>, id: string): Promise<BullJob | null> {
    return (async () => this.queue.nextJobFromJobData(hash, id))().catch(skipUnreadable)
  }
}

function leaseOf(display: string, queue: BullQueue, job: BullJob, started: number, completions: Completions): {message: Message; ops: SettleOps} {
  return {
    message: fromBullJob(display, job, 'inflight', started),
    ops: {
      ack: () => completions.complete(job),
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
  await queue.moveUnlockedJobsToWait() // after it, bull's scripts are defined on the connection
  const completions = new Completions(display, queue, await bullScripts().catch(() => undefined), finishAndCountOf(queue))
  void queue.updateDelayTimer() // bull's own timer: due delayed jobs move to wait until close()
  let drained = false

  return startLoop(handler, options, {
    maxIdleMs: 50,
    upkeepMs: stalledInterval,
    upkeep: () => queue.moveUnlockedJobsToWait(),
    attach: (loop) => (completions.loop = loop),
    coming: () => completions.coming,
    fetch: async (n) => {
      // once wait ran dry, one moveToActive probes it (not a burst of empty ones) until it has jobs again
      const want = drained ? 1 : Math.min(n, FETCH_PARALLEL)
      const got = (await Promise.all(Array.from({length: want}, () => queue.moveToActive().catch(skipUnreadable)))).filter((j): j is BullJob => Boolean(j))
      drained = got.length < want
      if (got.length === 0) return []
      // deliveries, which bull does not count (attemptsMade counts failures): BullMQ's field name,
      // counted for the whole batch in one script call rather than one HINCRBY a job
      const keys = got.map((job) => queue.toKey(String(job.id)))
      const counts = (await runScript(queue.client, COUNT_STARTS, [String(keys.length), ...keys], [])) as number[]
      return got.map((job, i) => leaseOf(display, queue, job, Number(counts[i] ?? 1), completions))
    },
    // settling goes through the job's queue, which stays usable after close (it owns no connection);
    // a next job landing after this goes back through the closed loop (a nack: the front of wait)
    dispose: async () => {
      completions.closed = true
      await queue.close()
    },
  })
}
