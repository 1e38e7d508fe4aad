// Yardstick: BullMQ's own API for what `queue bench --url redis://…?flavor=bullmq` does: each batch
// one Queue.addBulk (one MULTI of its add scripts), consumed by a BullMQ Worker with concurrency =
// prefetch (its processor runs the bench's record; BullMQ completes each job and fetches the next
// in one moveToFinished round trip, its documented fast path). ioredis: no-delay is its default.
// Job data carries the bench header as base64 (BullMQ data is JSON).
// Run: node bench/wire/bullmq.mjs '{"url":"redis://127.0.0.1:6379","count":20000,"size":128,"prefetch":64}'
import {Queue, Worker} from 'bullmq'
import IORedis from 'ioredis'
import {main} from './loop.mjs'

await main(async (o) => {
  const url = o.url ?? 'redis://127.0.0.1:6379'
  const name = o.queue ?? `wire-bullmq-${process.pid}-${Date.now()}`
  const conn = new IORedis(url, {maxRetriesPerRequest: null})
  const queue = new Queue(name, {connection: conn})
  let worker
  let workerConn
  return {
    send: (buffers) => queue.addBulk(buffers.map((b) => ({name: 'default', data: {b: b.toString('base64')}}))),
    consume: async (onPayload) => {
      workerConn = new IORedis(url, {maxRetriesPerRequest: null})
      worker = new Worker(name, async (job) => void onPayload(Buffer.from(job.data.b, 'base64')), {connection: workerConn, concurrency: o.prefetch ?? 64})
      await worker.waitUntilReady()
      return async () => {
        await worker.close()
        workerConn.disconnect()
      }
    },
    close: async () => {
      await queue.obliterate({force: true}).catch(() => {})
      await queue.close()
      conn.disconnect()
    },
  }
})
