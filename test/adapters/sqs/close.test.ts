// Closing an SQS consumer without leaving a long poll behind. SQS (and fauxqs) cannot cancel a long
// poll: a request dropped by the client still takes the next message that arrives, hidden for the
// poll's lease. These tests send or hand back messages right after a close and expect them visible.
import {GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand} from '@aws-sdk/client-sqs'
import {afterAll, describe, expect, it} from 'vitest'
import type {Lease} from '../../../src/broker/contract.js'
import {openBroker} from '../../../src/adapters/registry.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {adminClient, createQueueWithDlq, emulatorUrl} from './helpers.js'

const admin = adminClient()
afterAll(() => admin.destroy())
const env = {...isolatedHome(), AWS_EC2_METADATA_DISABLED: 'true'}
let n = 0
const fresh = async (hint: string) => createQueueWithDlq(admin, `close-${hint}-${process.pid}-${n++}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Visible / not visible, straight from the emulator (exact there). */
async function counts(url: string): Promise<[number, number]> {
  const a = (await admin.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['All']}))).Attributes ?? {}
  return [Number(a.ApproximateNumberOfMessages), Number(a.ApproximateNumberOfMessagesNotVisible)]
}

describe('closing an sqs:// consumer', {timeout: 60_000}, () => {
  it('with short polls, close() waits for the poll in flight: a message sent right after is not taken', async () => {
    const q = await fresh('short')
    const broker = await openBroker(emulatorUrl(), {timeoutMs: 5000})
    const got: Lease[] = []
    try {
      const sub = await broker.consume(q.name, (l) => got.push(l), {prefetch: 5, leaseMs: 30_000, pollWaitMs: 1000})
      await sleep(300) // a poll is waiting on the empty queue
      const started = Date.now()
      await sub.close()
      expect(Date.now() - started).toBeLessThan(2500)
    } finally {
      await broker.close()
    }
    await admin.send(new SendMessageCommand({QueueUrl: q.url, MessageBody: 'after the close'}))
    await sleep(200)
    expect(await counts(q.url)).toEqual([1, 0])
    expect(got).toHaveLength(0)
  })

  it('with long polls, close() does not wait them out, and a lease nacked after it is not taken by them', async () => {
    const q = await fresh('long')
    const broker = await openBroker(emulatorUrl('&wait=8'), {timeoutMs: 5000})
    try {
      await broker.enqueue(q.name, [{payload: 'held'}])
      const got: Lease[] = []
      const sub = await broker.consume(q.name, (l) => got.push(l), {prefetch: 5, leaseMs: 30_000})
      while (got.length < 1) await sleep(20)
      await sleep(300) // the next poll is waiting on the now empty queue, for up to 8 s
      const started = Date.now()
      await sub.close()
      expect(Date.now() - started).toBeLessThan(1000)
      await got[0]!.nack()
      await broker.close() // nothing of ours listens any more; the dropped poll still does, server-side
      // held back until the dropped poll has ended (≤ 9 s), then receivable: not hidden for the 30 s
      // lease a dropped poll would have taken it for (fauxqs counts an expired lease as in flight
      // until the next receive, so this receives rather than reading counts)
      const until = Date.now() + 15_000
      for (;;) {
        const out = await admin.send(new ReceiveMessageCommand({QueueUrl: q.url, WaitTimeSeconds: 0}))
        if (out.Messages?.[0]?.Body === 'held') break
        if (Date.now() > until) throw new Error('the nacked message is still hidden after 15 s: a dropped poll took it')
        await sleep(200)
      }
    } finally {
      await broker.close()
    }
  })

  it('queue move --limit leaves no poll behind: counts are right at once, and new messages stay visible', async () => {
    const src = await fresh('move-src')
    const dst = await fresh('move-dst')
    const broker = await openBroker(emulatorUrl(), {timeoutMs: 5000})
    try {
      await broker.enqueue(src.name, [...Array(6)].map((_, i) => ({payload: `m${i}`})))
    } finally {
      await broker.close()
    }
    // the default 20 s long poll: a poll left open would outlive the command by far
    const r = await runCli(['move', src.name, dst.name, '--limit', '2', '--yes', '--idle', '1s', '--url', emulatorUrl(), '--json'], {env})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({moved: 2, remaining: 4})
    expect(await counts(src.url)).toEqual([4, 0])
    expect(await counts(dst.url)).toEqual([2, 0])
    await admin.send(new SendMessageCommand({QueueUrl: src.url, MessageBody: 'late'}))
    await admin.send(new SendMessageCommand({QueueUrl: dst.url, MessageBody: 'late'}))
    await sleep(200)
    expect(await counts(src.url)).toEqual([5, 0])
    expect(await counts(dst.url)).toEqual([3, 0])
  })

  it('queue move --where hands the others back visible at once, with no poll left to take them', async () => {
    const src = await fresh('filter-src')
    const dst = await fresh('filter-dst')
    const broker = await openBroker(emulatorUrl(), {timeoutMs: 5000})
    try {
      await broker.enqueue(src.name, [...Array(6)].map((_, i) => ({payload: `m${i}`, name: i < 2 ? 'email' : 'sms'})))
    } finally {
      await broker.close()
    }
    const r = await runCli(['move', src.name, dst.name, '--where', 'name == "email"', '--yes', '--idle', '1s', '--url', emulatorUrl(), '--json'], {env})
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({moved: 2, skipped: 4})
    expect(await counts(src.url)).toEqual([4, 0])
    expect(await counts(dst.url)).toEqual([2, 0])
    await admin.send(new SendMessageCommand({QueueUrl: src.url, MessageBody: 'late'}))
    await sleep(200)
    expect(await counts(src.url)).toEqual([5, 0])
  })
})
