// Yardstick: @nats-io/jetstream at its best for what `queue bench --url nats://…` does: a
// work-queue stream on file storage with a durable explicit-ack pull consumer (what createQueue
// makes); each batch published with every js.publish in flight at once (the client pipelines on
// one connection; no-delay is its default), consumed with consumer.consume({max_messages:
// prefetch, callback}) — the callback form, no promise per message (the client's docs call it the
// fastest) — each message acked (JetStream has no multiple ack for explicit-ack consumers);
// noAsyncTraces: no stack captured at every request (two Error objects a publish otherwise).
// Run: node bench/wire/nats.mjs '{"url":"nats://127.0.0.1:4222","count":20000,"size":128,"prefetch":64}'
import {AckPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {main} from './loop.mjs'

await main(async (o) => {
  const nc = await connect({servers: new URL(o.url).host, noAsyncTraces: true})
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const name = o.queue ?? `WIRE_${process.pid}_${Date.now()}`
  await jsm.streams.add({name, subjects: [name], retention: RetentionPolicy.Workqueue, storage: StorageType.File})
  await jsm.consumers.add(name, {durable_name: 'worker', ack_policy: AckPolicy.Explicit})
  return {
    send: (buffers) => Promise.all(buffers.map((b) => js.publish(name, b))),
    consume: async (onPayload) => {
      const c = await js.consumers.get(name, 'worker')
      const msgs = await c.consume({
        max_messages: o.prefetch ?? 64,
        callback: (m) => {
          onPayload(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))
          m.ack()
        },
      })
      return async () => {
        await msgs.close()
      }
    },
    close: async () => {
      await jsm.streams.delete(name).catch(() => {})
      await nc.close()
    },
  }
})
