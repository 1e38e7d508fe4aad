// Consuming pg-boss jobs the way its workers do: fetchNextJob (SKIP LOCKED, state → active),
// completeJobs on ack (batched per tick), failJobs on a failed nack or dead-letter — so a pg-boss
// worker beside us never gets the same job, and retries, backoff and dead-letter queues apply.
import type {ConsumeOptions, LeaseHandler, Subscription} from '../../broker/contract.js'
import {NotSupportedError} from '../../kernel/errors.js'
import type {FlavorContext} from './flavor.js'
import {toMessage, type PgbossRow} from './pgboss-job.js'
import * as sql from './pgboss-sql.js'
import {coalesce, onceLease, pollConsumer} from './poll.js'

const ms = (n: number) => `${Math.max(0, Math.round(n))} milliseconds`

export async function consumePgboss(ctx: FlavorContext, name: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  const s = ctx.schema
  const db = ctx.db
  const lease = options.leaseMs ? ms(options.leaseMs) : null
  // pg-boss 12.10's key_strict_fifo hands out one job per key in order; our fetch does not keep that
  const [queue] = await db.query<{policy: string | null}>(`SELECT policy FROM ${s}.queue WHERE name = $1`, [name])
  if (queue?.policy === 'key_strict_fifo') throw new NotSupportedError(`pg-boss queue "${name}" has the key_strict_fifo policy, which queuectl cannot consume without breaking its per-key order — use pg-boss's own worker`)
  const complete = coalesce<string>(async (ids) => {
    await db.query(sql.completeSql(s), [name, ids, null])
  })
  const fail = async (id: string, message: string) => {
    await db.query(sql.failByIdSql(s, ctx.version), [name, [id], JSON.stringify({message})])
  }
  return pollConsumer<PgbossRow>({
    async fetch(n) {
      const rows = await db.query<PgbossRow>(sql.fetchSql(s, ctx.version), [name, n, lease])
      // UPDATE … RETURNING keeps no order: serve them as fetchNextJob ordered them
      return rows.sort((a, b) => b.priority - a.priority || a.created_on.getTime() - b.created_on.getTime() || (a.id < b.id ? -1 : 1))
    },
    lease(row, settled) {
      const id = row.id
      return onceLease(toMessage(name, row), {
        ack: () => complete(id),
        async nack(opts) {
          if (!opts?.failed) {
            await db.query(sql.returnSql(s), [name, [id], ms(opts?.delayMs ?? 0)])
            return
          }
          await fail(id, 'failed (handed back by queuectl)')
          if (opts.delayMs) await db.query(sql.delayRetrySql(s), [name, [id], ms(opts.delayMs)])
        },
        async deadLetter(reason) {
          await db.query(sql.exhaustSql(s), [name, [id]])
          await fail(id, reason)
        },
        async extend(n) {
          await db.query(sql.extendSql(s, ctx.version), [name, id, ms(n)])
        },
      }, settled)
    },
    async giveBack(rows) {
      await db.query(sql.returnSql(s), [name, rows.map((r) => r.id), ms(0)])
    },
    // as often as the shortest lease could run out; pg-boss's own maintenance is every minute or two
    sweepEveryMs: Math.max(250, Math.min((options.leaseMs ?? 60_000) / 2, 30_000)),
    async sweep() {
      await db.query(sql.failByTimeoutSql(s, ctx.version), [name])
    },
    wrap: (error) => ctx.wrap(error),
  }, handler, options)
}
