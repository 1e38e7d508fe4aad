// Dead letters: a lease given up on is sent to the queue's DLQ (from its RedrivePolicy) and only
// deleted from the source once that send is confirmed. `retry` moves DLQ messages back to the
// source: StartMessageMoveTask where the service has it, else receive → send → delete in batches,
// never deleting before the send is confirmed.
import {
  DeleteMessageBatchCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type Message as SqsMessage,
  type SQSClient,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs'
import type {RetryOptions} from '../../broker/contract.js'
import {EnqueueError, ExitCode, NotSupportedError} from '../../kernel/errors.js'
import {carriedAttributes} from './codec.js'
import {sleep} from '../../kernel/backoff.js'
import {errorName, throttled, toUserError} from './errors.js'
import type {QueueDirectory, QueueInfo} from './queues.js'
import {release} from './settle.js'

export interface RedriveContext {
  client: SQSClient
  dir: QueueDirectory
  where: string
  defaultGroupId?: string
}

function noDlq(source: QueueInfo): NotSupportedError {
  return new NotSupportedError(
    `queue "${source.name}" has no dead-letter queue — give it a RedrivePolicy (aws sqs set-queue-attributes --attributes RedrivePolicy=…) or nack the message instead`,
  )
}

/** Group and dedup ids for re-sending a received message to a FIFO queue. */
function fifoIds(target: QueueInfo, raw: SqsMessage, fallbackGroup: string): Partial<SendMessageBatchRequestEntry> {
  if (!target.fifo) return {}
  // The DLQ/source message id makes a repeated send (after a lost reply) a duplicate SQS drops.
  return {MessageGroupId: raw.Attributes?.MessageGroupId ?? fallbackGroup, MessageDeduplicationId: raw.MessageId}
}

/** Sends a received message to the DLQ with the reason; the caller deletes it from the source after. */
export async function sendToDeadLetter(ctx: RedriveContext, source: QueueInfo, raw: SqsMessage, reason: string): Promise<void> {
  const dlq = await ctx.dir.deadLetterOf(source.name)
  if (!dlq) throw noDlq(source)
  try {
    await throttled(() =>
      ctx.client.send(
        new SendMessageCommand({
          QueueUrl: dlq.url,
          MessageBody: raw.Body ?? '',
          MessageAttributes: carriedAttributes(raw, reason),
          ...fifoIds(dlq, raw, ctx.defaultGroupId ?? 'dead'),
        }),
      ),
    )
  } catch (error) {
    throw toUserError(error, ctx.where, dlq.name)
  }
}

const MOVE_UNSUPPORTED = new Set(['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'AccessDenied', 'AccessDeniedException'])

/** DLQ → source. Resolves with how many messages were moved. */
export async function retryDeadLetters(ctx: RedriveContext, queue: string, options: RetryOptions): Promise<number> {
  const state = options.state ?? 'dead'
  if (state !== 'dead') throw new NotSupportedError(`sqs:// retries only dead messages (its DLQ), not "${state}"`)
  const source = await ctx.dir.info(queue, true)
  const dlq = await ctx.dir.deadLetterOf(queue)
  if (!dlq) throw noDlq(source)
  if (!options.ids && options.limit === undefined) {
    const moved = await moveTask(ctx, dlq, source)
    if (moved !== undefined) return moved
  }
  return moveByHand(ctx, dlq, source, options)
}

/** The service's own redrive; undefined where it is missing (emulators) so the caller moves by hand. */
async function moveTask(ctx: RedriveContext, dlq: QueueInfo, source: QueueInfo): Promise<number | undefined> {
  let handle: string | undefined
  try {
    const out = await ctx.client.send(new StartMessageMoveTaskCommand({SourceArn: dlq.arn, DestinationArn: source.arn}))
    handle = out.TaskHandle
  } catch (error) {
    if (MOVE_UNSUPPORTED.has(errorName(error)) || /unknown action|not supported/i.test(String((error as Error).message))) return undefined
    throw toUserError(error, ctx.where, dlq.name)
  }
  for (;;) {
    await sleep(1000)
    const out = await throttled(() => ctx.client.send(new ListMessageMoveTasksCommand({SourceArn: dlq.arn, MaxResults: 10})))
    const task = out.Results?.find((r) => r.TaskHandle === handle) ?? out.Results?.[0]
    if (!task || task.Status === 'RUNNING') continue
    if (task.Status === 'COMPLETED') return task.ApproximateNumberOfMessagesMoved ?? 0
    throw new EnqueueError(
      `the SQS move task from "${dlq.name}" to "${source.name}" ended ${task.Status}: ${task.FailureReason ?? 'no reason given'} — ${task.ApproximateNumberOfMessagesMoved ?? 0} were moved`,
      task.ApproximateNumberOfMessagesMoved ?? 0,
      ExitCode.checkFailed,
    )
  }
}

async function moveByHand(ctx: RedriveContext, dlq: QueueInfo, source: QueueInfo, options: RetryOptions): Promise<number> {
  const limit = options.limit ?? Infinity
  const wanted = options.ids ? new Set(options.ids) : undefined
  const held: string[] = [] // received but not asked for: released at the end
  const failures: string[] = []
  let moved = 0
  try {
    while (moved < limit && (!wanted || wanted.size > 0)) {
      const out = await throttled(() =>
        ctx.client.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq.url,
            MaxNumberOfMessages: Math.min(10, limit - moved),
            WaitTimeSeconds: 1,
            // enough to send and delete one batch, and to scan past the ones not asked for (held)
            VisibilityTimeout: 60,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        ),
      )
      const received = out.Messages ?? []
      if (received.length === 0) break
      const take: SqsMessage[] = []
      for (const m of received) {
        if (wanted && !wanted.has(m.MessageId!)) held.push(m.ReceiptHandle!)
        else take.push(m)
      }
      if (take.length === 0) continue
      const sent = await throttled(() =>
        ctx.client.send(
          new SendMessageBatchCommand({
            QueueUrl: source.url,
            Entries: take.map((m, i) => ({
              Id: String(i),
              MessageBody: m.Body ?? '',
              MessageAttributes: carriedAttributes(m),
              ...fifoIds(source, m, ctx.defaultGroupId ?? 'retried'),
            })),
          }),
        ),
      )
      const confirmed = (sent.Successful ?? []).map((s) => take[Number(s.Id)]!)
      for (const f of sent.Failed ?? []) {
        const m = take[Number(f.Id)]!
        held.push(m.ReceiptHandle!)
        failures.push(`${m.MessageId} (${f.Code})`)
      }
      if (confirmed.length > 0) {
        await throttled(() =>
          ctx.client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: dlq.url,
              Entries: confirmed.map((m, i) => ({Id: String(i), ReceiptHandle: m.ReceiptHandle!})),
            }),
          ),
        )
      }
      moved += confirmed.length
      for (const m of confirmed) wanted?.delete(m.MessageId!)
      if (failures.length > 0) break
    }
  } catch (error) {
    throw new EnqueueError(`${toUserError(error, ctx.where, dlq.name).message} — ${moved} were moved back before it stopped`, moved, ExitCode.connection)
  } finally {
    await release(ctx.client, dlq.url, held).catch(() => {})
  }
  if (failures.length > 0) {
    throw new EnqueueError(
      `SQS refused to send ${failures.length} dead letters back to "${source.name}": ${failures.slice(0, 5).join(', ')} — they stay in "${dlq.name}"; ${moved} were moved`,
      moved,
      ExitCode.checkFailed,
    )
  }
  return moved
}
