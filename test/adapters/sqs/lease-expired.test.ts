// A lease SQS has already taken back (its visibility timeout ran out, someone else received the
// message): extending or nacking it is a queuectl error saying so, not the SDK's MessageNotInflight.
import {ReceiveMessageCommand} from '@aws-sdk/client-sqs'
import {afterAll, describe, expect, it} from 'vitest'
import type {Lease} from '../../../src/broker/contract.js'
import {openBroker} from '../../../src/adapters/registry.js'
import {adminClient, createQueueWithDlq, dropQueueWithDlq, emulatorUrl} from './helpers.js'

const admin = adminClient()
afterAll(() => admin.destroy())
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('an expired sqs:// lease', {timeout: 30_000}, () => {
  it('extend (and nack) refuse with exit 4: the lease expired and the message will be delivered again', async () => {
    const q = await createQueueWithDlq(admin, `lease-expired-${process.pid}`)
    const broker = await openBroker(emulatorUrl(), {timeoutMs: 5000})
    try {
      await broker.enqueue(q.name, [{payload: 'slow'}])
      const got: Lease[] = []
      // prefetch 1: while this lease is unsettled the consumer receives nothing more
      const sub = await broker.consume(q.name, (l) => got.push(l), {prefetch: 1, leaseMs: 1000})
      while (got.length === 0) await sleep(20)
      await sleep(1500)
      // the visibility timeout ran out: another consumer receives the message
      const again = await admin.send(new ReceiveMessageCommand({QueueUrl: q.url, VisibilityTimeout: 30, WaitTimeSeconds: 2}))
      expect(again.Messages?.[0]?.Body).toBe('slow')
      const expired = {exitCode: 4, name: 'NotFoundError', message: expect.stringMatching(/^the lease on a message of queue "lease-expired-\d+" has expired: SQS took the message back and will deliver it again — /)}
      await expect(got[0]!.extend(30_000)).rejects.toMatchObject(expired)
      await expect(got[0]!.nack()).rejects.toMatchObject(expired)
      await sub.close()
    } finally {
      await broker.close()
      await dropQueueWithDlq(admin, q.name)
    }
  })
})
