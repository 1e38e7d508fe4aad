// Yardstick: @aws-sdk/client-sqs at its best for what `queue bench --url sqs://…` does (against
// the fauxqs emulator on loopback; wire.mjs starts it): each batch of 100 as ten SendMessageBatch
// calls of 10 in flight at once (the API's largest batch); ceil(prefetch / 10) long polls
// (ReceiveMessage, MaxNumberOfMessages = free slots up to 10, WaitTimeSeconds 1) kept going; the
// deletes of one event-loop turn as DeleteMessageBatch calls of 10. Bodies are base64 (the bench
// payload is binary; queuectl sends it so too). Node's fetch/undici: no-delay is its default;
// the SDK's http handler keeps connections alive.
// Run: node bench/wire/sqs.mjs '{"endpoint":"http://127.0.0.1:4566","count":20000,"size":128,"prefetch":64}'
import {CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageBatchCommand} from '@aws-sdk/client-sqs'
import {main} from './loop.mjs'

await main(async (o) => {
  const client = new SQSClient({endpoint: o.endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
  const name = o.queue ?? `wt-wire-sqs-${process.pid}-${Date.now()}`
  const {QueueUrl} = await client.send(new CreateQueueCommand({QueueName: name}))
  const prefetch = o.prefetch ?? 64
  return {
    send: async (buffers) => {
      const calls = []
      for (let i = 0; i < buffers.length; i += 10) {
        const Entries = buffers.slice(i, i + 10).map((b, k) => ({Id: String(k), MessageBody: b.toString('base64')}))
        calls.push(client.send(new SendMessageBatchCommand({QueueUrl, Entries})).then((r) => {
          if (r.Failed?.length) throw new Error(`SendMessageBatch: ${r.Failed[0].Message}`)
        }))
      }
      await Promise.all(calls)
    },
    consume: async (onPayload) => {
      let running = true
      let outstanding = 0
      let handles = []
      const flush = () => {
        const all = handles
        handles = []
        for (let i = 0; i < all.length; i += 10) {
          const part = all.slice(i, i + 10)
          client.send(new DeleteMessageBatchCommand({QueueUrl, Entries: part.map((h, k) => ({Id: String(k), ReceiptHandle: h}))})).finally(() => (outstanding -= part.length))
        }
      }
      const poll = async () => {
        while (running) {
          const room = Math.min(10, prefetch - outstanding)
          if (room <= 0) {
            await new Promise((resolve) => setTimeout(resolve, 1))
            continue
          }
          outstanding += room
          const out = await client.send(new ReceiveMessageCommand({QueueUrl, MaxNumberOfMessages: room, WaitTimeSeconds: 1}))
          const got = out.Messages ?? []
          outstanding -= room - got.length
          for (const m of got) {
            onPayload(Buffer.from(m.Body, 'base64'))
            if (handles.length === 0) setImmediate(flush)
            handles.push(m.ReceiptHandle)
          }
        }
      }
      const pollers = Array.from({length: Math.ceil(prefetch / 10)}, poll)
      return async () => {
        running = false
        await Promise.all(pollers)
      }
    },
    close: async () => {
      await client.send(new DeleteQueueCommand({QueueUrl})).catch(() => {})
      client.destroy()
    },
  }
})
