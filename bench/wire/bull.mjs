// Yardstick: Bull 4's own API for what `queue bench --url redis://…?flavor=bull` does: each batch one
// Queue.addBulk (one MULTI of its addJob scripts), consumed by queue.process(concurrency = prefetch)
// (Bull's processor loop: moveToActive, then moveToFinished that also fetches the next job, its
// documented fast path); done jobs kept in `completed`, as queuectl's ack does. ioredis: no-delay by default. Job data carries the bench header as base64.
// Run: node bench/wire/bull.mjs '{"url":"redis://127.0.0.1:6379","count":20000,"size":128,"prefetch":64}'
import Queue from 'bull'
import {main} from './loop.mjs'

await main(async (o) => {
  const name = o.queue ?? `wt-wire-bull-${process.pid}-${Date.now()}`
  const queue = new Queue(name, o.url ?? 'redis://127.0.0.1:6379', {settings: {drainDelay: 1}})
  await queue.isReady()
  return {
    send: (buffers) => queue.addBulk(buffers.map((b) => ({data: {b: b.toString('base64')}}))),
    consume: async (onPayload) => {
      void queue.process(o.prefetch ?? 64, async (job) => void onPayload(Buffer.from(job.data.b, 'base64')))
      return async () => {
        await queue.close()
      }
    },
    close: async () => {
      const admin = new Queue(name, o.url ?? 'redis://127.0.0.1:6379')
      await admin.obliterate({force: true}).catch(() => {})
      await admin.close()
    },
  }
})
