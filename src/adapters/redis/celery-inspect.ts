// Celery workers on Redis, asked the way `celery inspect` asks them: a broadcast on the pidbox
// fanout (PUBLISH /<db>.celery.pidbox, kombu's fanout prefix) with a reply_to, and the replies
// collected from a reply list bound to the reply.celery.pidbox exchange (kombu's binding set),
// until every subscriber answered (at most about a second). Only the workers that answer show: a
// dead one cannot.
import {randomUUID} from 'node:crypto'
import type {WorkerInfo} from '../../broker/contract.js'
import {INSPECT_WAIT_MS, emptyReplies, inspectRequests, inspectWorkers, takeInspectReply, type InspectMethod, type InspectReplies} from '../formats/celery-inspect.js'
import type {RedisClient} from './connection.js'

const SEP = '\x06\x16'

/** kombu's Redis message: the body base64, its properties and headers. */
function envelope(body: unknown, exchange: string, headers: Record<string, unknown>): string {
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers,
    properties: {delivery_mode: 1, delivery_info: {exchange, routing_key: ''}, priority: 0, body_encoding: 'base64', delivery_tag: randomUUID()},
  })
}

/** Celery workers answering on this Redis db within `waitMs`; [] when none run (or none listen). */
export async function celeryWorkers(client: RedisClient, openReader: () => Promise<RedisClient>, db: number, waitMs = INSPECT_WAIT_MS): Promise<WorkerInfo[]> {
  const oid = randomUUID()
  const replyQueue = `${oid}.reply.celery.pidbox`
  const binding = `_kombu.binding.reply.celery.pidbox`
  const member = `${oid}${SEP}${SEP}${replyQueue}`
  const requests = inspectRequests(oid)
  const tickets = new Map(requests.map((r) => [r.ticket, r.method]))
  const replies = emptyReplies()
  await client.sadd(binding, member)
  let reader: RedisClient | undefined
  try {
    const expires = Date.now() / 1000 + waitMs / 1000
    const listeners = await Promise.all(requests.map((r) => client.publish(`/${db}.celery.pidbox`, envelope(r.body, 'celery.pidbox', {clock: 1, expires}))))
    const expected = Math.max(0, ...listeners)
    if (expected === 0) return [] // nobody subscribed to the pidbox: no Celery worker runs
    reader = await openReader()
    const end = Date.now() + waitMs
    // each worker subscribes once: done early when every subscriber answered every request
    const answered = () => requests.every((r) => Object.keys(replies[r.method]).length >= expected)
    for (let left = waitMs; left > 0 && !answered(); left = end - Date.now()) {
      const got = await reader.brpop(replyQueue, Math.max(0.05, left / 1000))
      if (!got) break
      takeReply(got[1], tickets, replies)
    }
  } finally {
    reader?.disconnect()
    await client.srem(binding, member).catch(() => {})
    await client.del(replyQueue).catch(() => {})
  }
  return inspectWorkers(replies)
}

function takeReply(raw: string, tickets: Map<string, InspectMethod>, replies: InspectReplies): void {
  try {
    const message = JSON.parse(raw) as {body: string; headers?: {ticket?: string}; properties?: {body_encoding?: string}}
    const text = message.properties?.body_encoding === 'base64' ? Buffer.from(message.body, 'base64').toString('utf8') : message.body
    takeInspectReply(text, message.headers?.ticket, tickets, replies)
  } catch {
    // not kombu JSON: skipped
  }
}
