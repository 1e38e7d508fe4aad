// `queue export`: messages as NDJSON (message-format.ts). By default a peek — nothing is removed
// (how honest the peek is depends on the broker: AMQP requeues, SQS bumps receive counts);
// --consume drains instead, acking each batch only once its lines are written out (and, into a
// pipe, once the writer confirmed its reader was still there after them).
import type {Broker, Message, MessageState} from '../../broker/contract.js'
import {NotSupportedError} from '../../kernel/errors.js'
import {peekCaveat} from '../inspect.js'
import {drainQueue, type DrainReport} from './drain.js'
import {exportLine} from './message-format.js'
import {sourceQueue} from './move.js'

/**
 * Writes lines; resolves once the output took them. A writer that cannot tell yet whether its
 * reader will read them (a pipe) resolves with `confirmed`, settled once it can.
 */
export type LineWriter = (lines: string) => Promise<void | {confirmed: Promise<void>}>

export interface ExportOptions {
  state?: MessageState
  limit?: number
  consume: boolean
  batchSize: number
  idleMs: number
  signal?: AbortSignal
  /** Peek even where a peek counts toward a redrive (SQS maxReceiveCount): else refused. */
  consumeReceives?: boolean
  /** Only the messages matching (a compiled --where); with --consume the others are handed back. */
  filter?: (message: Message) => boolean
  /** The writer confirms what it wrote later (a pipe: see LineWriter): a batch is removed only once confirmed. */
  confirming?: boolean
}

export interface ExportReport {
  exported: number
  consumed: boolean
  drain?: DrainReport
  /** Why peeking was not quite free, when it was not (AMQP requeue, SQS receive counts). */
  caveat?: string
}

export async function exportMessages(broker: Broker, queue: string, write: LineWriter, options: ExportOptions): Promise<ExportReport> {
  if (options.consume) {
    const from = await sourceQueue(broker, queue, options.state)
    const drain = await drainQueue(broker, from, async (messages) => write(messages.map((m) => `${exportLine(m)}\n`).join('')), {
      limit: options.limit,
      batchSize: options.batchSize,
      idleMs: options.idleMs,
      signal: options.signal,
      confirming: options.confirming,
      filter: options.filter,
    })
    return {exported: drain.done, consumed: true, drain}
  }
  const stats = await broker.stats(queue)
  const caps = await broker.capabilitiesOf(queue)
  if (caps.peek === 'none') {
    throw new NotSupportedError(`${broker.displayUrl} cannot read messages without consuming them — export with --consume (removes them) instead`)
  }
  const state = options.state ?? 'waiting'
  if (!caps.states.includes(state)) {
    throw new NotSupportedError(`${stats.kind} queue "${queue}" keeps no "${state}" messages it can show — states here: ${caps.states.join(', ')}`)
  }
  const count = stats.counts[state] ?? (state === 'dead' ? stats.counts.dead : undefined)
  // the count is a snapshot (approximate on SQS): ask for a little more, never fewer than 1000
  const all = Math.max(1000, Math.ceil((count ?? 0) * 1.1) + 10)
  // with a filter, --limit counts matches: read the whole state
  const limit = options.filter ? all : (options.limit ?? all)
  const peeked = await broker.peek(queue, {limit, state: options.state, consumeReceives: options.consumeReceives})
  const messages = options.filter ? peeked.filter(options.filter).slice(0, options.limit) : peeked
  for (let i = 0; i < messages.length; i += options.batchSize) {
    await write(messages.slice(i, i + options.batchSize).map((m) => `${exportLine(m)}\n`).join(''))
  }
  return {exported: messages.length, consumed: false, caveat: messages.length > 0 ? peekCaveat(caps) : undefined}
}
