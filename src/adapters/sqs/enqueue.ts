// enqueue: everything is validated and encoded first (nothing is sent when one message is bad),
// then packed into SendMessageBatch calls (10 entries, 1 MiB a call) with several calls in flight.
// Entries the service rejects as retryable (SenderFault false) are retried with back-off; the rest
// are reported by index and never counted as sent.
import {SendMessageBatchCommand, type SQSClient, type SendMessageBatchRequestEntry} from '@aws-sdk/client-sqs'
import type {EnqueueOptions, OutgoingMessage} from '../../broker/contract.js'
import {chunkBySize} from '../../broker/kit/chunk.js'
import {EnqueueError, ExitCode, NotSupportedError, UsageError, isUserError} from '../../kernel/errors.js'
import {formatBytes} from '../../kernel/units.js'
import {sleep} from '../../kernel/backoff.js'
import {SQS_MAX_DELAY_MS, SQS_MAX_MESSAGE_BYTES} from './capabilities.js'
import {encodeAttributes, encodeBody, messageSize} from './codec.js'
import {backoffMs, throttled, toUserError} from './errors.js'
import type {QueueInfo} from './queues.js'

/** SendMessageBatch calls in flight at once on a standard queue (FIFO sends one at a time, in order). */
export const SEND_CONCURRENCY = 8
const MAX_ENTRY_RETRIES = 6

interface Prepared {
  entry: SendMessageBatchRequestEntry
  size: number
}

export interface SendContext {
  client: SQSClient
  where: string
  defaultGroupId?: string
}

/** Validates and encodes every message; throws on the first bad one, naming its index. */
export function prepare(ctx: SendContext, info: QueueInfo, messages: OutgoingMessage[]): Prepared[] {
  const limit = Math.min(info.maxBytes, SQS_MAX_MESSAGE_BYTES)
  return messages.map((message, index) => {
    if (message.priority !== undefined) {
      throw new NotSupportedError(
        `message at index ${index} has a priority, but SQS has no priorities — use one queue per priority (e.g. ${info.name}-high) and consume the high one first`,
      )
    }
    const entry: SendMessageBatchRequestEntry = {Id: String(index), MessageBody: ''}
    if (message.delayMs !== undefined && message.delayMs > 0) {
      if (info.fifo) {
        throw new NotSupportedError(
          `message at index ${index} asks for a delay, but FIFO queue "${info.name}" takes no per-message delay — set the queue's DelaySeconds, or use a standard queue`,
        )
      }
      if (message.delayMs > SQS_MAX_DELAY_MS) {
        throw new NotSupportedError(
          `message at index ${index} asks for a ${Math.ceil(message.delayMs / 1000)} s delay, but SQS delays at most 900 s (15 min) — schedule it instead (e.g. EventBridge Scheduler) or re-enqueue it with a delay when it comes due`,
        )
      }
      entry.DelaySeconds = Math.ceil(message.delayMs / 1000)
    }
    const groupId = message.groupId ?? (info.fifo ? ctx.defaultGroupId : undefined)
    if (info.fifo) {
      if (!groupId) {
        throw new UsageError(
          `message at index ${index} has no group id, and FIFO queue "${info.name}" needs one — give a group id (--group-id, or groupId per message), or a default with ?group=NAME in the sqs:// URL`,
        )
      }
      if (!message.dedupId && !info.contentDedup) {
        throw new UsageError(
          `message at index ${index} has no deduplication id, and FIFO queue "${info.name}" has no content-based deduplication — give a deduplication id (--dedup-id, or dedupId per message), or enable ContentBasedDeduplication on the queue`,
        )
      }
      entry.MessageDeduplicationId = message.dedupId
    } else if (message.dedupId) {
      throw new NotSupportedError(
        `message at index ${index} has a deduplication id, but "${info.name}" is a standard queue and does not deduplicate — use a .fifo queue`,
      )
    }
    if (groupId) entry.MessageGroupId = groupId
    const {body, base64} = encodeBody(message.payload)
    const attributes = encodeAttributes(message, base64, index)
    const size = messageSize(body, attributes)
    if (size > limit) {
      const why = base64 ? ' (binary payloads travel base64-encoded: 4/3 of their size)' : ''
      throw new UsageError(
        `message at index ${index} is ${size} bytes with its attributes${why}, but queue "${info.name}" accepts at most ${limit} bytes (${formatBytes(limit)}) — make it smaller or store the payload elsewhere (e.g. S3) and send a reference`,
      )
    }
    entry.MessageBody = body
    if (Object.keys(attributes).length > 0) entry.MessageAttributes = attributes
    return {entry, size}
  })
}

/** Packs entries into batches of at most 10 and at most 1 MiB in total, keeping their order. */
export function pack(prepared: Prepared[]): SendMessageBatchRequestEntry[][] {
  return chunkBySize(prepared, (p) => p.size, {maxItems: 10, maxBytes: SQS_MAX_MESSAGE_BYTES}).map((batch) => batch.map((p) => p.entry))
}

interface Failure {
  index: number
  code: string
  message: string
}

export async function sendMessages(
  ctx: SendContext,
  info: QueueInfo,
  messages: OutgoingMessage[],
  options: EnqueueOptions = {},
): Promise<string[]> {
  if (options.flavor) {
    throw new NotSupportedError(`sqs:// has no "${options.flavor}" encoding — send the payload as it is, without --flavor`)
  }
  const batches = pack(prepare(ctx, info, messages))
  const ids = new Array<string>(messages.length)
  const failures: Failure[] = []
  let sent = 0
  let next = 0
  let fatal: Error | undefined

  const sendBatch = async (batch: SendMessageBatchRequestEntry[]) => {
    let pending = batch
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await throttled(
        () => ctx.client.send(new SendMessageBatchCommand({QueueUrl: info.url, Entries: pending}), {abortSignal: options.signal}),
        options.signal,
      )
      for (const ok of out.Successful ?? []) {
        ids[Number(ok.Id)] = ok.MessageId!
        sent++
      }
      const retry = new Set<string>()
      for (const failed of out.Failed ?? []) {
        const index = Number(failed.Id)
        if (!failed.SenderFault && attempt < MAX_ENTRY_RETRIES && !options.signal?.aborted) retry.add(failed.Id!)
        else failures.push({index, code: failed.Code ?? 'Failed', message: failed.Message ?? ''})
      }
      pending = pending.filter((e) => retry.has(e.Id!))
      if (pending.length > 0) await sleep(backoffMs(attempt))
    }
    options.onProgress?.(sent)
  }

  const worker = async () => {
    while (!fatal && !options.signal?.aborted && next < batches.length) {
      const batch = batches[next++]!
      try {
        await sendBatch(batch)
      } catch (error) {
        fatal ??= options.signal?.aborted ? undefined : toUserError(error, ctx.where, info.name)
        return
      }
    }
  }
  const lanes = info.fifo ? 1 : Math.min(SEND_CONCURRENCY, batches.length)
  await Promise.all(Array.from({length: lanes}, worker))

  if (options.signal?.aborted) {
    throw new EnqueueError(`interrupted: ${sent} of ${messages.length} messages were sent to "${info.name}"`, sent, ExitCode.interrupted)
  }
  if (fatal) {
    const code = isUserError(fatal) ? fatal.exitCode : ExitCode.connection
    throw new EnqueueError(`${fatal.message} — ${sent} of ${messages.length} messages were sent before it stopped`, sent, code)
  }
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index)
    const shown = failures
      .slice(0, 5)
      .map((f) => `index ${f.index} (${f.code}: ${f.message})`)
      .join('; ')
    const more = failures.length > 5 ? `; and ${failures.length - 5} more` : ''
    throw new EnqueueError(
      `SQS rejected ${failures.length} of ${messages.length} messages for "${info.name}": ${shown}${more} — ${sent} were sent; resend the rejected ones after fixing them`,
      sent,
      ExitCode.checkFailed,
    )
  }
  return ids
}
