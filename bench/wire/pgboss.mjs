// Yardstick: pg-boss 10's own API for what `queue bench --url postgres://…?flavor=pgboss` does:
// each batch one boss.insert() (one multi-row INSERT), consumed by a boss.fetch({batchSize:
// prefetch}) + boss.complete(ids) loop with no polling interval between non-empty fetches (boss.work
// waits out pollingIntervalSeconds, 0.5 s at least, after every batch); an empty fetch waits 5 ms.
// node-postgres: no-delay is its default. Job data carries the bench header as base64.
// Run: node bench/wire/pgboss.mjs '{"url":"postgres://postgres@127.0.0.1:5432/qc_wire","count":20000,"size":128,"prefetch":64}'
import PgBoss from 'pg-boss'
import {main} from './loop.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

await main(async (o) => {
  const boss = new PgBoss({connectionString: o.url, max: 4, supervise: false, schedule: false})
  boss.on('error', () => {})
  await boss.start()
  const name = o.queue ?? `wire-pgboss-${process.pid}-${Date.now()}`
  await boss.createQueue(name)
  return {
    send: (buffers) => boss.insert(buffers.map((b) => ({name, data: {b: b.toString('base64')}}))),
    consume: async (onPayload) => {
      let running = true
      const loop = (async () => {
        while (running) {
          const jobs = await boss.fetch(name, {batchSize: o.prefetch ?? 64})
          if (!jobs?.length) {
            await sleep(5)
            continue
          }
          for (const j of jobs) onPayload(Buffer.from(j.data.b, 'base64'))
          await boss.complete(name, jobs.map((j) => j.id))
        }
      })()
      return async () => {
        running = false
        await loop
      }
    },
    close: async () => {
      await boss.deleteQueue(name).catch(() => {})
      await boss.stop({graceful: false, wait: true})
    },
  }
})
