// `queue move` between SQS FIFO queues keeps each message's group (and its order in it), and sends
// the source message id as the deduplication id, as SQS's own dead-letter moves do.
import {DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message as SqsMessage} from '@aws-sdk/client-sqs'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {adminClient, createQueueWithDlq, emulatorUrl} from './helpers.js'

const admin = adminClient()
afterAll(() => admin.destroy())
const env = {...isolatedHome(), AWS_EC2_METADATA_DISABLED: 'true'}
let n = 0
// no content-based deduplication: a send without a deduplication id would be refused
const fresh = (hint: string) => createQueueWithDlq(admin, `fifomove-${hint}-${process.pid}-${n++}.fifo`, {contentDedup: false})

/** Everything in the queue, in delivery order (deleting as it goes: a FIFO group hands out its next message only then). */
async function receiveAll(queueUrl: string): Promise<SqsMessage[]> {
  const got: SqsMessage[] = []
  for (;;) {
    const out = await admin.send(new ReceiveMessageCommand({QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageSystemAttributeNames: ['All']}))
    const batch = out.Messages ?? []
    if (batch.length === 0) return got
    got.push(...batch)
    await admin.send(new DeleteMessageBatchCommand({QueueUrl: queueUrl, Entries: batch.map((m, i) => ({Id: String(i), ReceiptHandle: m.ReceiptHandle!}))}))
  }
}

describe('queue move between sqs:// FIFO queues', {timeout: 60_000}, () => {
  it('keeps each message group and the order within it; the deduplication id is the source message id', async () => {
    const src = await fresh('src')
    const dst = await fresh('dst')
    const sent = await admin.send(
      new SendMessageBatchCommand({
        QueueUrl: src.url,
        Entries: [
          {Id: '0', MessageBody: 'a1', MessageGroupId: 'orders-a', MessageDeduplicationId: 'x1'},
          {Id: '1', MessageBody: 'b1', MessageGroupId: 'orders-b', MessageDeduplicationId: 'x2'},
          {Id: '2', MessageBody: 'a2', MessageGroupId: 'orders-a', MessageDeduplicationId: 'x3'},
          {Id: '3', MessageBody: 'b2', MessageGroupId: 'orders-b', MessageDeduplicationId: 'x4'},
        ],
      }),
    )
    const sourceIds = Object.fromEntries((sent.Successful ?? []).map((s) => [['a1', 'b1', 'a2', 'b2'][Number(s.Id)], s.MessageId]))
    // no ?group= default in the URL: without the source's groups the move could not send at all
    const r = await runCli(['move', src.name, dst.name, '--yes', '--idle', '1s', '--url', emulatorUrl(), '--json'], {env})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({moved: 4, failed: 0})

    const got = await receiveAll(dst.url)
    expect(got.map((m) => m.Body).sort()).toEqual(['a1', 'a2', 'b1', 'b2'])
    for (const m of got) {
      expect(m.Attributes?.MessageGroupId).toBe(m.Body!.startsWith('a') ? 'orders-a' : 'orders-b')
      expect(m.Attributes?.MessageDeduplicationId).toBe(sourceIds[m.Body!])
    }
    const order = (group: string) => got.filter((m) => m.Attributes?.MessageGroupId === group).map((m) => m.Body)
    expect(order('orders-a')).toEqual(['a1', 'a2'])
    expect(order('orders-b')).toEqual(['b1', 'b2'])
  })

  it('a message already copied before a crash is not copied twice when the move is re-run', async () => {
    const src = await fresh('rerun-src')
    const dst = await fresh('rerun-dst')
    const sent = await admin.send(new SendMessageBatchCommand({QueueUrl: src.url, Entries: [{Id: '0', MessageBody: 'once', MessageGroupId: 'g', MessageDeduplicationId: 'd'}]}))
    const sourceId = sent.Successful![0]!.MessageId!
    // export is a peek; the exported line names the group, and the source keeps the message
    const peek = await runCli(['export', src.name, '--url', emulatorUrl(), '--consume-receives'], {env})
    expect(peek.code).toBe(0)
    expect(JSON.parse(peek.stdout.trim())).toMatchObject({groupId: 'g', payload: 'once'})
    // what a crash between the destination's confirmation and the delete at the source leaves:
    // the copy at the destination (as the move sent it), the message still at the source
    await admin.send(new SendMessageBatchCommand({QueueUrl: dst.url, Entries: [{Id: '0', MessageBody: 'once', MessageGroupId: 'g', MessageDeduplicationId: sourceId}]}))
    const rerun = await runCli(['move', src.name, dst.name, '--yes', '--idle', '1s', '--url', emulatorUrl(), '--json'], {env})
    expect(rerun.code).toBe(0)
    expect(JSON.parse(rerun.stdout)).toMatchObject({moved: 1, remaining: 0})
    const got = await receiveAll(dst.url)
    expect(got.map((m) => m.Body)).toEqual(['once'])
  })
})
