// consume: several long-polling loops share the prefetch budget (never more unsettled leases than
// `prefetch`). ack → DeleteMessage (batched), nack → ChangeMessageVisibility (0 or the delay),
// extend → ChangeMessageVisibility, deadLetter → send to the DLQ, then delete.
// A long poll cannot be cancelled: aborting the request only drops our end, and SQS (and fauxqs)
// still hands the next message that arrives to the dead poll, invisible for its whole lease. So
// close() waits for the polls in flight that end soon (a poll that answers after the close hands
// its messages straight back), and drops only longer ones; leases nacked after that are held back
// until those dropped polls have ended, so that no message we return can fall into one of them.
// Consumers that stop once the queue is idle (move, export --consume) ask for short polls
// (pollWaitMs) so that their close waits for every poll.
import {ReceiveMessageCommand, type Message as SqsMessage, type SQSClient} from '@aws-sdk/client-sqs'
import type {ConsumeOptions, Lease, LeaseHandler, Subscription} from '../../broker/contract.js'
import {ConnectionError, isUserError} from '../../kernel/errors.js'
import {sleep} from '../../kernel/backoff.js'
import {decodeMessage} from './codec.js'
import {backoffMs, isQueueMissing, isThrottling, toUserError} from './errors.js'
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
/** close() waits for a poll in flight that ends within this long; a longer one is dropped. */
const CLOSE_WAIT_MS = 2500

interface Receive {
  /** When SQS answers at the latest (an empty long poll). */
  endsAt: number
  aborter: AbortController
  /** Settles once the call returned and anything it got after the close was handed back. */
  done: Promise<void>
}

export function startConsumer(ctx: ConsumeContext, info: QueueInfo, handler: LeaseHandler, options: ConsumeOptions): Subscription {
  const prefetch = Math.max(1, Math.floor(options.prefetch))
  const visibility = options.leaseMs === undefined ? undefined : Math.min(MAX_VISIBILITY_S, Math.max(1, Math.ceil(options.leaseMs / 1000)))
  const waitSeconds = options.pollWaitMs === undefined ? ctx.waitSeconds : Math.min(ctx.waitSeconds, Math.max(1, Math.ceil(options.pollWaitMs / 1000)))
  const receives = new Set<Receive>()
  /** Dropped polls may still take messages until then (epoch ms). */
  let deadPollsUntil = 0
  /** Seconds a message handed back now must stay hidden so that no dropped poll can take it. */
  const holdBackS = () => Math.max(0, Math.ceil((deadPollsUntil - Date.now()) / 1000))
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
      nack: (o) => settle(() => changeVisibility(ctx.client, info.url, handle, Math.max((o?.delayMs ?? 0) / 1000, holdBackS()))),
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

  /** One ReceiveMessage call: the messages, or 'stop' (closed, or failed for good), or 'retry' (a transient failure: back off). */
  const receive = async (n: number): Promise<SqsMessage[] | 'stop' | 'retry'> => {
    const aborter = new AbortController()
    const onClose = () => aborter.abort()
    ctx.signal.addEventListener('abort', onClose, {once: true})
    let finish!: () => void
    const r: Receive = {endsAt: Date.now() + waitSeconds * 1000, aborter, done: new Promise<void>((resolve) => (finish = resolve))}
    receives.add(r)
    try {
      const out = await ctx.client.send(
        new ReceiveMessageCommand({
          QueueUrl: info.url,
          MaxNumberOfMessages: n,
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: visibility,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
        {abortSignal: aborter.signal},
      )
      failures = 0
      const received = out.Messages ?? []
      if (!open) {
        // the subscription closed while this poll waited: hand the messages straight back
        const handles = received.map((m) => m.ReceiptHandle!)
        if (handles.length > 0) await release(ctx.client, info.url, handles, holdBackS()).catch(() => {})
        return 'stop'
      }
      return received
    } catch (error) {
      if (!open || aborter.signal.aborted) return 'stop'
      if (isQueueMissing(error)) {
        end(toUserError(error, ctx.where, info.name))
        return 'stop'
      }
      const mapped = toUserError(error, ctx.where, info.name)
      // network trouble and throttling are waited out; bad credentials or a missing queue end it
      const transient = isThrottling(error) || !isUserError(mapped) || (mapped instanceof ConnectionError && mapped.message.startsWith('cannot reach'))
      if (!transient || (!isThrottling(error) && ++failures >= MAX_CONSECUTIVE_FAILURES)) {
        end(mapped)
        return 'stop'
      }
      return 'retry'
    } finally {
      ctx.signal.removeEventListener('abort', onClose)
      receives.delete(r)
      finish()
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
      const received = await receive(n)
      requested -= n
      if (received === 'stop') return
      if (received === 'retry') {
        await sleep(backoffMs(Math.min(failures + 3, 8)))
        continue
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
      const drop = (r: Receive) => {
        deadPollsUntil = Math.max(deadPollsUntil, r.endsAt + 1000)
        r.aborter.abort()
      }
      const now = Date.now()
      for (const r of receives) if (r.endsAt - now > CLOSE_WAIT_MS) drop(r)
      // a short poll is waited for, though not past its end by much (a network gone quiet)
      const waited = [...receives]
      const late = setTimeout(() => waited.filter((r) => receives.has(r)).forEach(drop), CLOSE_WAIT_MS * 2)
      await Promise.all(waited.map((r) => r.done))
      clearTimeout(late)
    },
  }
}
