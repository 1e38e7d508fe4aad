// Consuming a Bee-Queue queue as leases, with bee-queue's own stall semantics: jobs move waiting →
// active as a bee worker's BRPOPLPUSH does; while a lease runs, its id is taken out of `stalling`
// every half stall interval (bee's preventStalling), and once the lease ran out it no longer is,
// so the next stall check (bee's checkStalledJobs, which any worker may run) puts the job back in
// waiting. The stall interval must match the bee-queue workers' (?stallInterval=, default bee's
// 5000 ms): a shorter one would reset their jobs. Due delayed jobs are raised here as a bee worker
// with activateDelayedJobs does.
import type {ConsumeOptions, LeaseHandler, NackOptions, Subscription} from '../../../broker/contract.js'
import {startLoop} from '../consumer.js'
import type {FlavorContext} from '../flavor.js'
import {runScript} from '../scripts.js'
import {beeJobToMessage, settledBeeJob} from './bee-job.js'
import {BEE_CHECK_STALLED, BEE_FETCH, BEE_RAISE_DELAYED, BEE_SETTLE, beeKeys} from './bee-scripts.js'
import {leaseMsOf, msParamOf} from './shared.js'

const FETCH_MAX = 100

export const stallIntervalOf = (ctx: FlavorContext): number => msParamOf(ctx, 'stallInterval', 5000)

type Keys = ReturnType<typeof beeKeys>

/** Settles a job still held (in active): rewrites its JSON and moves it, as bee's _finishJob. */
async function settle(ctx: FlavorContext, k: Keys, id: string, json: string, to: {key: string; how: string; score?: number; channel?: string; publish?: string}): Promise<void> {
  await runScript(ctx.client, BEE_SETTLE, [k.active, k.stalling, k.jobs, to.key, to.channel ?? k.events], [id, json, to.how, to.score ?? 0, to.publish ?? ''])
}

function settleOps(ctx: FlavorContext, k: Keys, id: string, json: string, done: () => void) {
  const event = (event: string, data: unknown) => JSON.stringify({id, event, data})
  const after = async (p: Promise<void>) => {
    done()
    await p
  }
  return {
    ack: () => after(settle(ctx, k, id, settledBeeJob(json, 'succeeded'), {key: k.succeeded, how: 'set', publish: event('succeeded', null)})),
    nack: (o?: NackOptions) => {
      const next = settledBeeJob(json, o?.failed ? 'retrying' : 'created', undefined, true)
      if (o?.delayMs) {
        const at = Date.now() + o.delayMs
        return after(settle(ctx, k, id, next, {key: k.delayed, how: 'zset', score: at, channel: k.earlierDelayed, publish: String(at)}))
      }
      // a plain hand-back goes to the front (next served); a failed one to the back, as bee's retry
      return after(settle(ctx, k, id, next, {key: k.waiting, how: o?.failed ? 'back' : 'front'}))
    },
    deadLetter: (reason: string) => after(settle(ctx, k, id, settledBeeJob(json, 'failed', reason), {key: k.failed, how: 'set', publish: event('failed', reason)})),
  }
}

export async function consumeBee(ctx: FlavorContext, display: string, prefix: string, queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  const leaseMs = options.leaseMs ?? leaseMsOf(ctx)
  const stallInterval = stallIntervalOf(ctx)
  const k = beeKeys(prefix, queue)
  // a held job leaves `stalling` at each upkeep until its lease (kept in Redis) runs out
  const hold = (id: string, ms: number) => ctx.client.zadd(k.leases, Date.now() + ms, id)
  const upkeep = async () => {
    const now = Date.now()
    const keep = await ctx.client.zrangebyscore(k.leases, now, '+inf')
    if (keep.length > 0) await ctx.client.srem(k.stalling, ...keep)
    await ctx.client.zremrangebyscore(k.leases, '-inf', `(${now}`)
    await runScript(ctx.client, BEE_CHECK_STALLED, [k.stallBlock, k.stalling, k.waiting, k.active], [stallInterval])
    while (Number(await runScript(ctx.client, BEE_RAISE_DELAYED, [k.delayed, k.waiting], [Date.now()])) >= 1000);
  }
  await upkeep()
  return startLoop(handler, options, {
    maxIdleMs: 50,
    upkeep,
    upkeepMs: Math.max(50, Math.floor(stallInterval / 2)),
    fetch: async (n) => {
      const flat = (await runScript(ctx.client, BEE_FETCH, [k.waiting, k.active, k.jobs], [Math.min(n, FETCH_MAX)])) as string[]
      const out = []
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i]!
        const json = flat[i + 1]!
        const ops = settleOps(ctx, k, id, json, () => void ctx.client.zrem(k.leases, id).catch(() => {}))
        const extend = async (ms: number) => {
          await hold(id, ms)
          await ctx.client.srem(k.stalling, id)
        }
        out.push({message: beeJobToMessage(display, id, json === '' ? null : json, 'inflight'), ops: {...ops, extend}})
      }
      const until = Date.now() + leaseMs
      if (out.length > 0) await ctx.client.zadd(k.leases, ...out.flatMap((l) => [until, l.message.id]))
      return out
    },
  })
}
