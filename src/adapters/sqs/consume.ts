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
import {onceLease, type SettleOps} from '../../broker/kit/lease.js'
import {ClosedSignal, Waker} from '../../broker/kit/subscription.js'
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
  const consumer = new SqsConsumer(ctx, info, handler, options)
  return {closed: consumer.closed.promise, close: () => consumer.close()}
}

class SqsConsumer {
  readonly closed = new ClosedSignal()
  private readonly prefetch: number
  private readonly visibility: number | undefined
  private readonly waitSeconds: number
  private readonly receives = new Set<Receive>()
  /** Dropped polls may still take messages until then (epoch ms). */
  private deadPollsUntil = 0
  private open = true
  private outstanding = 0
  private requested = 0
  private failures = 0
  /** Wakes pollers waiting for room (a lease settled) or for the end. */
  private readonly roomFreed = new Waker()

  constructor(
    private readonly ctx: ConsumeContext,
    private readonly info: QueueInfo,
    private readonly handler: LeaseHandler,
    options: ConsumeOptions,
  ) {
    this.prefetch = Math.max(1, Math.floor(options.prefetch))
    this.visibility = options.leaseMs === undefined ? undefined : Math.min(MAX_VISIBILITY_S, Math.max(1, Math.ceil(options.leaseMs / 1000)))
    this.waitSeconds = options.pollWaitMs === undefined ? ctx.waitSeconds : Math.min(ctx.waitSeconds, Math.max(1, Math.ceil(options.pollWaitMs / 1000)))
    ctx.signal.addEventListener('abort', () => this.end(undefined), {once: true})
    // FIFO: a group hands out one batch at a time and unlocks on delete, so extra polls only contend
    const pollers = info.fifo ? 1 : Math.min(MAX_POLLERS, Math.ceil(this.prefetch / 10))
    for (let i = 0; i < pollers; i++) void this.poll()
  }

  /** Seconds a message handed back now must stay hidden so that no dropped poll can take it. */
  private holdBackS(): number {
    return Math.max(0, Math.ceil((this.deadPollsUntil - Date.now()) / 1000))
  }

  private end(error: Error | undefined): void {
    if (!this.open) return
    this.open = false
    this.roomFreed.wake()
    this.closed.end(error)
  }

  private lease(raw: SqsMessage): Lease {
    const {ctx, info} = this
    const handle = raw.ReceiptHandle!
    const ops: SettleOps = {
      ack: () => ctx.deleter.delete(info.url, handle),
      nack: (o) => changeVisibility(ctx.client, info.url, handle, Math.max((o?.delayMs ?? 0) / 1000, this.holdBackS())),
      deadLetter: async (reason) => {
        await sendToDeadLetter(ctx, info, raw, reason)
        await ctx.deleter.delete(info.url, handle)
      },
      extend: (ms) => changeVisibility(ctx.client, info.url, handle, ms / 1000),
    }
    return onceLease(decodeMessage(info.name, raw, 'inflight'), ops, {
      claimed: () => {
        this.outstanding--
        this.roomFreed.wake()
      },
      // not settled after all (no DLQ, lease expired…): the caller may still nack or retry
      unclaimed: () => this.outstanding++,
    })
  }

  /** One ReceiveMessage call: the messages, or 'stop' (closed, or failed for good), or 'retry' (a transient failure: back off). */
  private async receive(n: number): Promise<SqsMessage[] | 'stop' | 'retry'> {
    const {ctx, info} = this
    const aborter = new AbortController()
    const onClose = () => aborter.abort()
    ctx.signal.addEventListener('abort', onClose, {once: true})
    let finish!: () => void
    const r: Receive = {endsAt: Date.now() + this.waitSeconds * 1000, aborter, done: new Promise<void>((resolve) => (finish = resolve))}
    this.receives.add(r)
    try {
      const out = await ctx.client.send(
        new ReceiveMessageCommand({
          QueueUrl: info.url,
          MaxNumberOfMessages: n,
          WaitTimeSeconds: this.waitSeconds,
          VisibilityTimeout: this.visibility,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
        {abortSignal: aborter.signal},
      )
      this.failures = 0
      const received = out.Messages ?? []
      if (!this.open) {
        // the subscription closed while this poll waited: hand the messages straight back
        const handles = received.map((m) => m.ReceiptHandle!)
        if (handles.length > 0) await release(ctx.client, info.url, handles, this.holdBackS()).catch(() => {})
        return 'stop'
      }
      return received
    } catch (error) {
      if (!this.open || aborter.signal.aborted) return 'stop'
      return this.failed(error)
    } finally {
      ctx.signal.removeEventListener('abort', onClose)
      this.receives.delete(r)
      finish()
    }
  }

  /** A receive failed: network trouble and throttling are waited out; bad credentials or a missing queue end it. */
  private failed(error: unknown): 'stop' | 'retry' {
    const mapped = toUserError(error, this.ctx.where, this.info.name)
    if (isQueueMissing(error)) {
      this.end(mapped)
      return 'stop'
    }
    const transient = isThrottling(error) || !isUserError(mapped) || (mapped instanceof ConnectionError && mapped.message.startsWith('cannot reach'))
    if (!transient || (!isThrottling(error) && ++this.failures >= MAX_CONSECUTIVE_FAILURES)) {
      this.end(mapped)
      return 'stop'
    }
    return 'retry'
  }

  private async poll(): Promise<void> {
    while (this.open) {
      const room = this.prefetch - this.outstanding - this.requested
      if (room <= 0) {
        await this.roomFreed.wait()
        continue
      }
      const n = Math.min(10, room)
      this.requested += n
      const received = await this.receive(n)
      this.requested -= n
      if (received === 'stop') return
      if (received === 'retry') {
        await sleep(backoffMs(Math.min(this.failures + 3, 8)))
        continue
      }
      for (const raw of received) {
        this.outstanding++
        try {
          this.handler(this.lease(raw))
        } catch {
          // a throwing handler is the caller's bug; the lease stays unsettled and expires
        }
      }
    }
  }

  async close(): Promise<void> {
    this.end(undefined)
    const drop = (r: Receive) => {
      this.deadPollsUntil = Math.max(this.deadPollsUntil, r.endsAt + 1000)
      r.aborter.abort()
    }
    const now = Date.now()
    for (const r of this.receives) if (r.endsAt - now > CLOSE_WAIT_MS) drop(r)
    // a short poll is waited for, though not past its end by much (a network gone quiet)
    const waited = [...this.receives]
    const late = setTimeout(() => waited.filter((r) => this.receives.has(r)).forEach(drop), CLOSE_WAIT_MS * 2)
    await Promise.all(waited.map((r) => r.done))
    clearTimeout(late)
  }
}
