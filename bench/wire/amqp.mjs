// Yardstick: amqplib at its best for what `queue bench --url amqp://…` does. One connection with
// TCP no-delay (amqplib's connect turns Nagle on unless told), a confirm channel publishing
// persistent + mandatory messages with a callback per message (confirms pipelined, never awaited
// one by one), a consumer channel with basic.qos prefetch and manual acks batched with
// `multiple` once per event-loop turn (amqplib docs: Channel#ack allUpTo). Each message carries the
// properties queuectl's adapter writes (message id, timestamp), so both put the same bytes on disk.
// Run: node bench/wire/amqp.mjs '{"url":"amqp://guest:guest@127.0.0.1:5672/","queueType":"classic","count":20000,"size":128,"prefetch":64}'
import {randomUUID} from 'node:crypto'
import amqp from 'amqplib'
import {main} from './loop.mjs'

await main(async (o) => {
  const url = new URL(o.url)
  const conn = await amqp.connect(
    {protocol: 'amqp', hostname: url.hostname, port: Number(url.port || 5672), username: decodeURIComponent(url.username || 'guest'), password: decodeURIComponent(url.password || 'guest')},
    {noDelay: true},
  )
  const queue = o.queue ?? `wire-amqp-${process.pid}-${Date.now()}`
  const admin = await conn.createChannel()
  await admin.assertQueue(queue, {durable: true, arguments: o.queueType && o.queueType !== 'classic' ? {'x-queue-type': o.queueType} : {}})
  const pub = await conn.createConfirmChannel()
  const con = await conn.createChannel()
  await con.prefetch(o.prefetch ?? 64)
  return {
    send: (buffers) =>
      new Promise((resolve, reject) => {
        let left = buffers.length
        for (const b of buffers) {
          // the properties queuectl writes on every message: the broker stores the same bytes
          pub.publish('', queue, b, {persistent: true, mandatory: true, messageId: randomUUID(), timestamp: Math.floor(Date.now() / 1000)}, (err) => {
            if (err) reject(err)
            else if (--left === 0) resolve()
          })
        }
      }),
    consume: async (onPayload) => {
      let last
      const flush = () => {
        con.ack(last, true)
        last = undefined
      }
      const {consumerTag} = await con.consume(queue, (m) => {
        if (!m) return
        onPayload(m.content)
        if (o.ackEach) return con.ack(m)
        if (last === undefined) setImmediate(flush)
        last = m
      }, {noAck: false})
      return async () => {
        await con.cancel(consumerTag)
        if (last) flush()
      }
    },
    close: async () => {
      await admin.deleteQueue(queue).catch(() => {})
      await conn.close()
    },
  }
})
