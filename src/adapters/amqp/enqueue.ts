// What enqueue refuses before the first publish: options RabbitMQ would silently ignore (priority
// on a queue without x-max-priority, delay without the plugin, dedup ids) and payloads over the
// server's max_message_size. Nothing is sent when one message of the batch is refused.
import type {Capabilities, OutgoingMessage} from '../../broker/contract.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {formatBytes} from '../../kernel/units.js'
import type {QueueType} from './config.js'
import {noDelayError} from './delay.js'
import {toOutgoing, type Outgoing} from './envelope.js'
import type {MgmtClient} from './mgmt.js'

export interface PrepareContext {
  queue: string
  flavor?: 'celery'
  capabilities: Capabilities
  queueType: QueueType
  serverVersion?: string
  maxMessageBytes: number
}

export function prepareMessages(messages: OutgoingMessage[], ctx: PrepareContext): Outgoing[] {
  // a kept message-id twice in one batch (a publisher that reused ids): the second gets a new one,
  // since confirms and returns are matched by message-id
  const seen = new Set<string>()
  return messages.map((m, i) => {
    if (m.messageId !== undefined) {
      if (seen.has(m.messageId)) m = {...m, messageId: undefined}
      else seen.add(m.messageId)
    }
    if (m.dedupId || m.groupId) throw new NotSupportedError('RabbitMQ has no deduplication ids or message groups — drop them (they are SQS FIFO features)')
    if (m.priority !== undefined && !ctx.capabilities.priority) {
      throw new NotSupportedError(
        ctx.queueType === 'classic'
          ? `priority needs the management API to check the queue's x-max-priority (RabbitMQ silently ignores priority otherwise) — enable rabbitmq_management or pass --mgmt-url`
          : `${ctx.queueType} queues have no message priority on RabbitMQ ${ctx.serverVersion ?? ''} — use a classic queue declared with x-max-priority`,
      )
    }
    // a Celery eta is held by the Celery worker, not the broker
    if (m.delayMs && ctx.flavor !== 'celery' && !ctx.capabilities.delay) throw noDelayError(ctx.queue)
    const out = toOutgoing(m, i, ctx.flavor)
    if (out.content.length > ctx.maxMessageBytes) {
      throw new NotSupportedError(
        `message ${i + 1} is ${formatBytes(out.content.length)}, over RabbitMQ's max_message_size of ${formatBytes(ctx.maxMessageBytes)} — nothing was sent; split it, or if the server allows more say so with ?maxMessageBytes=N`,
      )
    }
    return out
  })
}

/** Priority only works on a classic queue declared with x-max-priority, and only up to it. */
export async function checkPriorities(mgmt: MgmtClient, queue: string, messages: OutgoingMessage[]): Promise<void> {
  const highest = messages.reduce((top, m) => Math.max(top, m.priority ?? -1), -1)
  if (highest < 0) return
  const q = await mgmt.queue(queue)
  const max = Number(q.arguments?.['x-max-priority'])
  if (!Number.isFinite(max) || max <= 0) {
    throw new NotSupportedError(`queue "${queue}" was declared without x-max-priority, so RabbitMQ would ignore the priority — redeclare it with x-max-priority (e.g. 10) or drop --priority`)
  }
  if (highest > max) throw new UsageError(`priority ${highest} is above the x-max-priority (${max}) of "${queue}" — RabbitMQ would treat it as ${max}; use 0..${max}`)
}
