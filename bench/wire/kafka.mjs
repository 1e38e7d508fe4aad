// Yardstick: @platformatic/kafka at its best for what `queue bench --url kafka://…` does: a fresh
// one-partition topic; each batch one idempotent produce (acks=all, as queuectl sends); a group
// consumer streaming from the earliest offset with offsets committed every 100 ms (autocommit:
// the client's fastest at-least-once mode; queuectl commits after each ack instead). One produce
// request at a time (see `queued`), which the closed loop (one batch awaiting its confirm) does anyway.
// Run: node bench/wire/kafka.mjs '{"url":"kafka://127.0.0.1:9092","count":20000,"size":128,"prefetch":64}'
import {Admin, Consumer, MessagesStreamModes, Producer} from '@platformatic/kafka'
import {main} from './loop.mjs'

await main(async (o) => {
  const bootstrapBrokers = [new URL(o.url).host]
  const topic = o.queue ?? `wire-${process.pid}-${Date.now()}`
  const admin = new Admin({clientId: 'wire-admin', bootstrapBrokers})
  await admin.createTopics({topics: [topic], partitions: 1, replicas: 1})
  const producer = new Producer({clientId: 'wire-producer', bootstrapBrokers, idempotent: true, acks: -1})
  const consumer = new Consumer({clientId: 'wire-consumer', groupId: `${topic}-g`, bootstrapBrokers, maxWaitTime: 100})
  // one produce request at a time, and the batches that wait for it go out together in the next
  // (as src/adapters/kafka/send-queue.ts does): @platformatic/kafka 1.x gives idempotent sends in
  // flight together the same sequence (platformatic/kafka issue 326), so the open loop's 16 in
  // flight ended in OUT_OF_ORDER_SEQUENCE_NUMBER (or silent drops)
  let waiting = []
  let busy = false
  const drain = async () => {
    busy = true
    while (waiting.length) {
      const group = waiting
      waiting = []
      try {
        await producer.send({messages: group.flatMap((w) => w.messages)})
        for (const w of group) w.resolve()
      } catch (error) {
        for (const w of group) w.reject(error)
      }
    }
    busy = false
  }
  const queued = (messages) =>
    new Promise((resolve, reject) => {
      waiting.push({messages, resolve, reject})
      if (!busy) void drain()
    })
  return {
    send: (buffers) => queued(buffers.map((value) => ({topic, value}))),
    consume: async (onPayload) => {
      const stream = await consumer.consume({topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: 100})
      stream.on('data', (m) => onPayload(m.value))
      return async () => {
        await stream.close()
      }
    },
    close: async () => {
      await consumer.close(true).catch(() => {})
      await producer.close().catch(() => {})
      await admin.deleteTopics({topics: [topic]}).catch(() => {})
      await admin.close().catch(() => {})
    },
  }
})
