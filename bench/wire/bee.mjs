// Yardstick: Bee-Queue 2's own API for what `queue bench --url redis://…?flavor=bee` does: each batch
// one queue.saveAll (its documented bulk save: one pipeline of addJob scripts), consumed by
// queue.process(concurrency = prefetch). Done jobs are kept in `succeeded` with their 'succeeded'
// event published, as queuectl's ack does (bee's defaults); storeJobs/getEvents off (in-process
// bookkeeping only, bee's README advice for throughput). bee uses node-redis 3: no-delay by default.
// Run: node bench/wire/bee.mjs '{"url":"redis://127.0.0.1:6379","count":20000,"size":128,"prefetch":64}'
import Bee from 'bee-queue'
import {main} from './loop.mjs'

await main(async (o) => {
  const name = o.queue ?? `wt-wire-bee-${process.pid}-${Date.now()}`
  const settings = {redis: {url: o.url ?? 'redis://127.0.0.1:6379'}, getEvents: false, storeJobs: false}
  const producer = new Bee(name, {...settings, isWorker: false})
  const worker = new Bee(name, settings)
  await Promise.all([producer.ready(), worker.ready()])
  return {
    send: (buffers) => producer.saveAll(buffers.map((b) => producer.createJob({b: b.toString('base64')}))),
    consume: async (onPayload) => {
      worker.process(o.prefetch ?? 64, async (job) => void onPayload(Buffer.from(job.data.b, 'base64')))
      return async () => {
        await worker.close(5000)
      }
    },
    close: async () => {
      await producer.destroy().catch(() => {})
      await producer.close()
    },
  }
})
