// Celery workers on Redis, asked the way `celery inspect` asks them: a broadcast on the pidbox
// fanout (PUBLISH /<db>.celery.pidbox, kombu's fanout prefix) with a reply_to, and the replies
// collected from a reply list bound to the reply.celery.pidbox exchange (kombu's binding set),
// for about a second. Only the workers that answer show: a dead one cannot.
import {randomUUID} from 'node:crypto'
import type {WorkerInfo} from '../../broker/contract.js'
import type {RedisClient} from './connection.js'

const SEP = '\x06\x16'
const METHODS = ['stats', 'active', 'active_queues'] as const

interface Replies {
  stats: Record<string, {pid?: number; uptime?: number; pool?: {'max-concurrency'?: number}}>
  active: Record<string, {id: string; name?: string; time_start?: number; delivery_info?: {routing_key?: string}}[]>
  active_queues: Record<string, {name: string}[]>
}

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
export async function celeryWorkers(client: RedisClient, openReader: () => Promise<RedisClient>, db: number, waitMs = 1000): Promise<WorkerInfo[]> {
  const oid = randomUUID()
  const replyQueue = `${oid}.reply.celery.pidbox`
  const binding = `_kombu.binding.reply.celery.pidbox`
  const member = `${oid}${SEP}${SEP}${replyQueue}`
  const tickets = new Map(METHODS.map((m) => [randomUUID(), m]))
  const replies: Replies = {stats: {}, active: {}, active_queues: {}}
  await client.sadd(binding, member)
  let reader: RedisClient | undefined
  try {
    const expires = Date.now() / 1000 + waitMs / 1000
    const listeners = await Promise.all(
      [...tickets].map(([ticket, method]) =>
        client.publish(`/${db}.celery.pidbox`, envelope({method, arguments: {}, destination: null, pattern: null, matcher: null, ticket, reply_to: {exchange: 'reply.celery.pidbox', routing_key: oid}}, 'celery.pidbox', {clock: 1, expires})),
      ),
    )
    if (Math.max(0, ...listeners) === 0) return [] // nobody subscribed to the pidbox: no Celery worker runs
    reader = await openReader()
    const end = Date.now() + waitMs
    for (let left = waitMs; left > 0; left = end - Date.now()) {
      const got = await reader.brpop(replyQueue, Math.max(0.05, left / 1000))
      if (!got) break
      takeReply(got[1], tickets, replies)
    }
  } finally {
    reader?.disconnect()
    await client.srem(binding, member).catch(() => {})
    await client.del(replyQueue).catch(() => {})
  }
  return toWorkers(replies)
}

function takeReply(raw: string, tickets: Map<string, (typeof METHODS)[number]>, replies: Replies): void {
  try {
    const message = JSON.parse(raw) as {body: string; headers?: {ticket?: string}; properties?: {body_encoding?: string}}
    const method = tickets.get(message.headers?.ticket ?? '')
    if (!method) return
    const text = message.properties?.body_encoding === 'base64' ? Buffer.from(message.body, 'base64').toString('utf8') : message.body
    Object.assign(replies[method], JSON.parse(text) as object)
  } catch {
    // a reply that is not kombu JSON: skipped, as celery inspect skips what it cannot decode
  }
}

function toWorkers(replies: Replies): WorkerInfo[] {
  const names = new Set([...Object.keys(replies.stats), ...Object.keys(replies.active), ...Object.keys(replies.active_queues)])
  const now = Date.now()
  return [...names].map((name): WorkerInfo => {
    const stats = replies.stats[name] ?? {}
    const active = replies.active[name] ?? []
    return {
      kind: 'celery',
      name,
      host: name.includes('@') ? name.slice(name.indexOf('@') + 1) : undefined,
      pid: stats.pid,
      queues: (replies.active_queues[name] ?? []).map((q) => `celery:${q.name}`),
      concurrency: stats.pool?.['max-concurrency'],
      busy: active.length,
      current: active.map((j) => ({id: j.id, name: j.name, queue: j.delivery_info?.routing_key && `celery:${j.delivery_info.routing_key}`, startedAt: j.time_start === undefined || j.time_start < 1e9 ? undefined : Math.round(j.time_start * 1000)})),
      startedAt: stats.uptime === undefined ? undefined : now - stats.uptime * 1000,
      lastSeenAt: now, // it answered just now
    }
  })
}
