// Consuming graphile-worker jobs the way its workers do: getJobs (SKIP LOCKED on jobs and named
// queues, attempts + 1, locked_by = our worker id), completeJobs on ack (batched per tick),
// failJobs (last_error, exponential backoff) on a failed nack — so a graphile-worker beside us
// never gets the same job. Leases are ours by worker id; with a lease length we release our own
// expired ones (the library's own reset frees any lock after 4 hours).
import type {ConsumeOptions, LeaseHandler, Subscription} from '../../broker/contract.js'
import type {FlavorContext} from './flavor.js'
import {toMessage, type GraphileRow} from './graphile-job.js'
import * as sql from './graphile-sql.js'
import {coalesce, onceLease, pollConsumer} from './poll.js'

const ms = (n: number) => `${Math.max(0, Math.round(n))} milliseconds`
let subscriptions = 0

export async function consumeGraphile(ctx: FlavorContext, name: string, taskId: number, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  const s = ctx.schema
  const db = ctx.db
  const me = `${ctx.workerId}-${++subscriptions}`
  const complete = coalesce<string>(async (ids) => {
    await db.query(sql.completeSql(s), [ids, me])
  })
  const leaseMs = options.leaseMs
  return pollConsumer<GraphileRow>({
    async fetch(n) {
      const rows = await db.query<GraphileRow>(sql.fetchSql(s), [me, [taskId], n])
      return rows.sort((a, b) => a.priority - b.priority || a.run_at.getTime() - b.run_at.getTime() || Number(a.id) - Number(b.id))
    },
    lease(row, settled) {
      const id = row.id
      return onceLease(toMessage(name, row), {
        ack: () => complete(id),
        async nack(opts) {
          const delay = opts?.delayMs ? ms(opts.delayMs) : null
          if (opts?.failed) await db.query(sql.failSql(s), [[id], me, 'failed (handed back by queuectl)', delay])
          else await db.query(sql.handBackSql(s), [[id], me, delay ?? ms(0)])
        },
        async deadLetter(reason) {
          await db.query(sql.permanentlyFailSql(s), [[id], me, reason])
        },
        async extend(n) {
          await db.query(sql.extendSql(s), [id, me, `${Math.round(n - (leaseMs ?? n))} milliseconds`])
        },
      }, settled)
    },
    async giveBack(rows) {
      await db.query(sql.returnSql(s), [rows.map((r) => r.id), me])
    },
    sweep: leaseMs
      ? async () => {
          await db.query(sql.sweepSql(s), [taskId, `${ctx.workerId}-%`, ms(leaseMs)])
        }
      : undefined,
    sweepEveryMs: Math.max(250, Math.min((leaseMs ?? 60_000) / 2, 30_000)),
    wrap: (error) => ctx.wrap(error),
  }, handler, options)
}
