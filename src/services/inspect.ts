// What `queue inspect` computes beyond the stats (services/stats.ts): peeked messages, and the CI
// thresholds (--max-depth, --max-age, --max-dead) with a one-line reason for each crossing.
import type {Broker, Capabilities, Message, MessageState, PeekMatch, QueueStats} from '../broker/contract.js'
import {NotSupportedError} from '../kernel/errors.js'
import {formatDuration} from '../kernel/units.js'

export interface Thresholds {
  maxDepth?: number
  maxAgeMs?: number
  maxDead?: number
}

/**
 * The one peek of inspect, export and top (the broker's guard refuses a queue that cannot peek or a
 * state it does not keep). `consumeReceives` is the user's opt-in where a peek counts toward a
 * redrive (SQS with a RedrivePolicy): without it the adapter refuses.
 */
export async function peekMessages(broker: Broker, queue: string, limit: number, state?: MessageState, options: {consumeReceives?: boolean; match?: PeekMatch} = {}): Promise<Message[]> {
  if (limit <= 0) return []
  return broker.peek(queue, {limit, state, consumeReceives: options.consumeReceives, ...(options.match ? {match: options.match} : {})})
}

/** Why peeking is not quite free, for the brokers where it is not. */
export function peekCaveat(caps: Capabilities): string | undefined {
  switch (caps.peek) {
    case 'requeue':
      return 'note: peeking took the messages and requeued them: they are now flagged redelivered (no attempt counted) and may have changed order'
    case 'visibility':
      return 'note: peeking received the messages with a short visibility timeout: their receive counts went up (with a redrive policy, that brings them closer to the dead-letter queue)'
    default:
      return undefined
  }
}

export function deadCount(stats: QueueStats): number {
  return (stats.counts.dead ?? 0) + (stats.counts.retry ?? 0)
}

export function depthOf(stats: QueueStats): number {
  return (stats.counts.waiting ?? 0) + (stats.counts.delayed ?? 0) + (stats.counts.paused ?? 0)
}

/** The thresholds crossed, each as one line. */
export function checkThresholds(stats: QueueStats[], t: Thresholds): string[] {
  const out: string[] = []
  for (const s of stats) {
    const depth = depthOf(s)
    if (t.maxDepth !== undefined && depth > t.maxDepth) out.push(`${s.name}: depth ${depth} is over --max-depth ${t.maxDepth}`)
    if (t.maxAgeMs !== undefined && s.oldestAgeMs === undefined && depth > 0) {
      throw new NotSupportedError(`${s.kind} queue "${s.name}" does not tell the age of its oldest message, so --max-age cannot be checked — use --max-depth`)
    }
    if (t.maxAgeMs !== undefined && s.oldestAgeMs !== undefined && s.oldestAgeMs > t.maxAgeMs) {
      out.push(`${s.name}: oldest message is ${formatDuration(s.oldestAgeMs)} old, over --max-age ${formatDuration(t.maxAgeMs)}`)
    }
    const dead = deadCount(s)
    if (t.maxDead !== undefined && dead > t.maxDead) out.push(`${s.name}: ${dead} dead/failed, over --max-dead ${t.maxDead}`)
  }
  return out
}
