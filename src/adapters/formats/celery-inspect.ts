// Celery's broadcast "inspect" (celery inspect stats/active/active_queues), shared by the Redis and
// AMQP adapters: the request body a worker's pidbox takes, and its replies turned into workers.
import {randomUUID} from 'node:crypto'
import type {WorkerInfo} from '../../broker/contract.js'

export const INSPECT_METHODS = ['stats', 'active', 'active_queues'] as const
export type InspectMethod = (typeof INSPECT_METHODS)[number]

/** How long a broadcast waits for replies, as `celery inspect` does by default (1 s). */
export const INSPECT_WAIT_MS = 1000

export interface InspectReplies {
  stats: Record<string, {pid?: number; uptime?: number; pool?: {'max-concurrency'?: number}}>
  active: Record<string, {id: string; name?: string; time_start?: number; delivery_info?: {routing_key?: string}}[]>
  active_queues: Record<string, {name: string}[]>
}

/** One request per method, each with its ticket; replies go to `routingKey` on reply.celery.pidbox. */
export function inspectRequests(routingKey: string): {ticket: string; method: InspectMethod; body: Record<string, unknown>}[] {
  return INSPECT_METHODS.map((method) => {
    const ticket = randomUUID()
    return {ticket, method, body: {method, arguments: {}, destination: null, pattern: null, matcher: null, ticket, reply_to: {exchange: 'reply.celery.pidbox', routing_key: routingKey}}}
  })
}

/** Keeps one reply (its JSON body text, its ticket header) when the ticket is one of ours. */
export function takeInspectReply(bodyText: string, ticket: string | undefined, tickets: Map<string, InspectMethod>, replies: InspectReplies): void {
  const method = tickets.get(ticket ?? '')
  if (!method) return
  try {
    Object.assign(replies[method], JSON.parse(bodyText) as object)
  } catch {
    // a reply that is not JSON: skipped, as celery inspect skips what it cannot decode
  }
}

export function emptyReplies(): InspectReplies {
  return {stats: {}, active: {}, active_queues: {}}
}

export function inspectWorkers(replies: InspectReplies): WorkerInfo[] {
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
