// Counting attempts on RabbitMQ. The rule: an attempt counts only when a handler is known to have
// run and failed, which our worker records on the message itself. A failed attempt is requeued as
// a copy: the copy goes back to the same queue (default exchange) with the failed attempts so far
// in x-queuectl-attempts and every other property and header kept; the original is acked only once
// the broker confirmed the copy (at worst a duplicate, never a loss). Attempts = that header + 1.
// Why not the broker's own marks: a peek (basic.get, then a requeue) raises the redelivered flag
// on classic queues and x-delivery-count on quorum queues (RabbitMQ 3.x counts every return)
// exactly as a consumer that died mid-job does, and nothing tells the two apart; counting them made
// one `inspect --peek` cost every message an attempt. So neither counts, on either queue type, and
// a plain hand-back (nack without `failed`) costs nothing either. The price: a job that kills its
// worker (not a failure the worker sees) is not counted and comes back without end; a quorum
// queue's own delivery-limit bounds that (it counts peeks too: set it well above them).
// Streams are not requeued.
import type {ConfirmChannel, ConsumeMessage, Message as AmqpMessage, Options} from 'amqplib'
import {ConnectionError} from '../../kernel/errors.js'
import {ATTEMPTS_HEADER} from './envelope.js'
import {replyText} from './errors.js'

/** Publishes a copy of the delivery back to its queue carrying `attempts`; resolves once confirmed and routed. */
export type AttemptCopier = (msg: ConsumeMessage, attempts: number) => Promise<void>

export interface CopyTarget {
  queue: string
  /** The login user: RabbitMQ refuses a publish whose user_id property names someone else. */
  username: string
  /** Give up waiting for the confirm after this long (a blocked connection never confirms). */
  timeoutMs: number
}

/**
 * The properties of a copy we publish of a delivery (an attempt recorded, a dead letter): the
 * original's, with `headers` added; broker-set and routing headers left out.
 */
export function copyProperties(msg: AmqpMessage, headers: Record<string, unknown>, username: string): Options.Publish {
  const {headers: original, userId, ...props} = msg.properties
  const merged: Record<string, unknown> = {...original}
  // quorum queues set x-delivery-count on delivery (meaningless on a copy); CC/BCC would route the
  // copy to other queues too
  delete merged['x-delivery-count']
  delete merged.CC
  delete merged.BCC
  const out: Options.Publish = {...props, headers: {...merged, ...headers}}
  // RabbitMQ refuses a publish whose user_id names someone other than the login
  if (userId !== undefined && String(userId) === username) out.userId = String(userId)
  return out
}

export async function publishAttemptCopy(ch: ConfirmChannel, msg: ConsumeMessage, attempts: number, t: CopyTarget): Promise<void> {
  // basic.return comes before the confirm of the same publish: a return for this queue while ours
  // is unconfirmed may be ours (the queue is gone), so the copy counts as not stored
  let returned = false
  const onReturn = (r: AmqpMessage) => {
    if (r.fields.exchange === '' && r.fields.routingKey === t.queue) returned = true
  }
  ch.on('return', onReturn)
  let timer: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no confirm within ${Math.round(t.timeoutMs / 1000)} s`)), t.timeoutMs)
      try {
        ch.publish('', t.queue, msg.content, {...copyProperties(msg, {[ATTEMPTS_HEADER]: attempts}, t.username), mandatory: true}, (err: unknown) => (err ? reject(err) : resolve()))
      } catch (error) {
        reject(error)
      }
    })
  } catch (error) {
    throw new ConnectionError(`RabbitMQ did not confirm the copy (${/nack/i.test(String((error as Error)?.message)) ? 'basic.nack: queue full?' : replyText(error)})`)
  } finally {
    clearTimeout(timer)
    ch.off('return', onReturn)
  }
  if (returned) throw new ConnectionError(`the copy could not be routed to "${t.queue}" (basic.return: the queue is gone?)`)
}
