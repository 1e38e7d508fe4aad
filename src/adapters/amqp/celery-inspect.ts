// Celery workers on RabbitMQ, asked the way `celery inspect` asks them: a broadcast on the
// celery.pidbox fanout exchange with a reply_to, replies read from a private auto-delete queue
// bound to reply.celery.pidbox by our routing key, for about a second. A broker where no Celery
// worker ever ran has no celery.pidbox exchange: nothing is declared then.
import {randomUUID} from 'node:crypto'
import type {ChannelModel} from 'amqplib'
import type {WorkerInfo} from '../../broker/contract.js'
import {INSPECT_WAIT_MS, emptyReplies, inspectRequests, inspectWorkers, takeInspectReply} from '../formats/celery-inspect.js'

export async function celeryWorkersOverAmqp(conn: ChannelModel, waitMs = INSPECT_WAIT_MS): Promise<WorkerInfo[]> {
  const probe = await conn.createChannel()
  probe.on('error', () => {})
  const exists = await probe.checkExchange('celery.pidbox').then(() => true, () => false)
  if (exists) await probe.close().catch(() => {})
  if (!exists) return []
  const ch = await conn.createChannel()
  ch.on('error', () => {})
  const oid = randomUUID()
  const replyQueue = `${oid}.reply.celery.pidbox`
  const replies = emptyReplies()
  try {
    // as kombu declares it (Mailbox.reply_exchange): direct, not durable
    await ch.assertExchange('reply.celery.pidbox', 'direct', {durable: false})
    await ch.assertQueue(replyQueue, {durable: false, autoDelete: true, expires: 10_000})
    await ch.bindQueue(replyQueue, 'reply.celery.pidbox', oid)
    const requests = inspectRequests(oid)
    const tickets = new Map(requests.map((r) => [r.ticket, r.method]))
    await ch.consume(replyQueue, (msg) => {
      if (msg) takeInspectReply(msg.content.toString('utf8'), msg.properties.headers?.ticket as string | undefined, tickets, replies)
    }, {noAck: true})
    const expires = Date.now() / 1000 + waitMs / 1000
    for (const r of requests) {
      ch.publish('celery.pidbox', '', Buffer.from(JSON.stringify(r.body)), {contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1, headers: {clock: 1, expires}})
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs))
  } catch {
    return inspectWorkers(replies) // a declare the broker refused (other arguments): what answered so far
  } finally {
    await ch.deleteQueue(replyQueue).catch(() => {})
    await ch.close().catch(() => {})
  }
  return inspectWorkers(replies)
}
