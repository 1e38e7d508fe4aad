// consume: several long-polling loops share the prefetch budget (never more unsettled leases than
// `prefetch`). ack → DeleteMessage (batched), nack → ChangeMessageVisibility (0 or the delay),
// extend → ChangeMessageVisibility, deadLetter → send to the DLQ, then delete.
// Closing a subscription does not cut polls short (that could strand messages SQS already handed
// out): a poll that answers after the close releases what it got. Closing the broker aborts them.
import {ReceiveMessageCommand, type Message as SqsMessage, type SQSClient} from '@aws-sdk/client-sqs'
import type {ConsumeOptions, Lease, LeaseHandler, Subscription} from '../contract.js'
import {ConnectionError, isUserError} from '../../core/errors.js'
import {decodeMessage} from './codec.js'
import {backoffMs, isQueueMissing, isThrottling, sleep, toUserError} from './errors.js'
import type {QueueInfo} from './queues.js'
import {sendToDeadLetter, type RedriveContext} from './redrive.js'
import {BatchDeleter, MAX_VISIBILITY_S, changeVisibility, release} from './settle.js'

export interface ConsumeContext extends RedriveContext {
  client: SQSClient
  deleter: BatchDeleter
  waitSeconds: number
  /** Aborted when the broker closes. */
  signal: AbortSignal
}

const MAX_POLLERS = 4
const MAX_CONSECUTIVE_FAILURES = 8

export function startConsumer(ctx: ConsumeContext, info: QueueInfo, handler: LeaseHandler, options: ConsumeOptions): Subscription {
  const prefetch = Math.max(1, Math.floor(options.prefetch))
  const visibility = options.leaseMs === undefined ? undefined : Math.min(MAX_VISIBILITY_S, Math.max(1, Math.ceil(options.leaseMs / 1000)))
  let open = true
  let outstanding = 0
  let requested = 0
  let failures = 0
  let wake: (() => void) | undefined
  let roomFreed = new Promise<void>((resolve) => (wake = resolve))
  const freeRoom = () => {
    wake?.()
    roomFreed = new Promise<void>((resolve) => (wake = resolve))
  }
  let resolveClosed!: (error: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve))
  const end = (error: Error | undefined) => {
    if (!open) return
    open = false
    freeRoom()
    resolveClosed(error)
  }
  ctx.signal.addEventListener('abort', () => end(undefined), {once: true})

  const lease = (raw: SqsMessage): Lease => {
    let settled = false
    const settle = async (action: () => Promise<void>) => {
      if (settled) return
      settled = true
      outstanding--
      freeRoom()
      try {
        await action()
      } catch (error) {
        // not settled after all (no DLQ, lease expired…): the caller may still nack or retry
        settled = false
        outstanding++
        throw error
      }
    }
    const handle = raw.ReceiptHandle!
    return {
      message: decodeMessage(info.name, raw, 'inflight'),
      ack: () => settle(() => ctx.deleter.delete(info.url, handle)),
      nack: (o) => settle(() => changeVisibility(ctx.client, info.url, handle, (o?.delayMs ?? 0) / 1000)),
      deadLetter: (reason) =>
        settle(async () => {
          await sendToDeadLetter(ctx, info, raw, reason)
          await ctx.deleter.delete(info.url, handle)
        }),
      extend: async (ms) => {
        if (!settled) await changeVisibility(ctx.client, info.url, handle, ms / 1000)
      },
    }
  }

  const poll = async () => {
    while (open) {
      const room = prefetch - outstanding - requested
      if (room <= 0) {
        await roomFreed
        continue
      }
      const n = Math.min(10, room)
      requested += n
      let received: SqsMessage[]
      try {
        const out = await ctx.client.send(
          new ReceiveMessageCommand({
            QueueUrl: info.url,
            MaxNumberOfMessages: n,
            WaitTimeSeconds: ctx.waitSeconds,
            VisibilityTimeout: visibility,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
          {abortSignal: ctx.signal},
        )
        received = out.Messages ?? []
        failures = 0
      } catch (error) {
        requested -= n
        if (!open || ctx.signal.aborted) return
        if (isQueueMissing(error)) return end(toUserError(error, ctx.where, info.name))
        const mapped = toUserError(error, ctx.where, info.name)
        // network trouble and throttling are waited out; bad credentials or a missing queue end it
        const transient = isThrottling(error) || !isUserError(mapped) || (mapped instanceof ConnectionError && mapped.message.startsWith('cannot reach'))
        if (!transient) return end(mapped)
        if (!isThrottling(error) && ++failures >= MAX_CONSECUTIVE_FAILURES) return end(mapped)
        await sleep(backoffMs(Math.min(failures + 3, 8)))
        continue
      }
      requested -= n
      if (!open) {
        // the subscription closed while this poll waited: hand the messages straight back
        await release(ctx.client, info.url, received.map((m) => m.ReceiptHandle!)).catch(() => {})
        return
      }
      for (const raw of received) {
        outstanding++
        try {
          handler(lease(raw))
        } catch {
          // a throwing handler is the caller's bug; the lease stays unsettled and expires
        }
      }
    }
  }

  // FIFO: a group hands out one batch at a time and unlocks on delete, so extra polls only contend
  const pollers = info.fifo ? 1 : Math.min(MAX_POLLERS, Math.ceil(prefetch / 10))
  for (let i = 0; i < pollers; i++) void poll()

  return {
    closed,
    close: async () => {
      end(undefined)
    },
  }
}
