// `queue find`: the jobs of one or more queues that match a --where, across their states. It reads
// through the one peek (a snapshot per state, at most --scan jobs each, so memory stays bounded)
// and tests each job client-side (the adapter may first skip, on the server, jobs the expression's
// top-level equalities rule out: pg-boss does, in SQL, BullMQ and Bull in a Lua script); where a peek costs deliveries (AMQP requeues, SQS receives) the
// scan is refused unless the caller accepts that cost, as a scan reads every job.
import type {Broker, Message, MessageState, QueueStats} from '../../broker/contract.js'
import {NotSupportedError} from '../../kernel/errors.js'
import {peekCaveat, peekMessages} from '../inspect.js'
import type {Where} from './expression.js'

export interface FindOptions {
  where?: Where
  /** The states to look in; default: every state the queue keeps. */
  states?: readonly MessageState[]
  /** Stop after this many matches. */
  limit?: number
  /** Only jobs enqueued at or after this epoch ms (jobs of unknown age are left out). */
  since?: number
  /** Most jobs read per queue and state. */
  scan: number
  /** Scan where a peek costs deliveries (AMQP requeue, SQS receive counts). */
  acceptPeekCost?: boolean
  signal?: AbortSignal
  /** Each match, as soon as it is found. */
  onMatch: (message: Message) => void | Promise<void>
  onProgress?: (p: {queue: string; state: MessageState; scanned: number; matched: number}) => void
}

export interface FindReport {
  scanned: number
  matched: number
  /** Where --scan stopped before the end of a state: what was left unread. */
  truncated: {queue: string; state: MessageState; scanned: number; count?: number}[]
  /** Why reading was not free, where it was not. */
  caveats: string[]
  stoppedBy: 'end' | 'limit' | 'interrupted'
}

/** Refuses a queue a scan cannot read, or could only read at a cost not accepted. */
export async function checkFindable(broker: Broker, queue: string, acceptPeekCost = false): Promise<void> {
  const caps = await broker.capabilitiesOf(queue)
  if (caps.peek === 'none') throw new NotSupportedError(`${broker.displayUrl} cannot read jobs without consuming them, so "${queue}" cannot be searched — use \`queue export --consume\` and search the file`)
  if (caps.peek !== 'exact' && !acceptPeekCost) {
    const cost = caps.peek === 'requeue' ? 'takes and requeues every message (flagged redelivered, order may change)' : 'receives every message (its receive count goes up, toward a redrive to the dead-letter queue)'
    throw new NotSupportedError(`searching "${queue}" on ${broker.displayUrl} ${cost} — add --accept-peek-cost to do it anyway`)
  }
}

/** The states of `queue` to read: the ones asked for (each must exist there) or all it keeps. */
async function statesOf(broker: Broker, queue: string, asked: readonly MessageState[] | undefined): Promise<MessageState[]> {
  const caps = await broker.capabilitiesOf(queue)
  if (!asked) return [...caps.states]
  const missing = asked.filter((s) => !caps.states.includes(s))
  if (missing.length > 0) throw new NotSupportedError(`queue "${queue}" on ${broker.displayUrl} keeps no "${missing.join('", "')}" jobs — states here: ${caps.states.join(', ')}`)
  return [...asked]
}

export async function findJobs(broker: Broker, queues: readonly string[], options: FindOptions): Promise<FindReport> {
  const report: FindReport = {scanned: 0, matched: 0, truncated: [], caveats: [], stoppedBy: 'end'}
  // everything that can be refused is refused before the first job is read
  const plan: {queue: string; states: MessageState[]; counts: QueueStats['counts']}[] = []
  for (const queue of queues) {
    const {counts} = await broker.stats(queue) // NotFoundError (exit 4)
    await checkFindable(broker, queue, options.acceptPeekCost)
    plan.push({queue, counts, states: await statesOf(broker, queue, options.states)})
  }
  for (const {queue, states, counts} of plan) {
    for (const state of states) {
      const count = counts[state]
      if (count === 0) continue
      const stop = await scanState(broker, queue, state, count, options, report)
      if (stop) return report
    }
    const caveat = peekCaveat(await broker.capabilitiesOf(queue))
    if (caveat && report.scanned > 0 && !report.caveats.includes(caveat)) report.caveats.push(caveat)
  }
  return report
}

/** One state of one queue; true when the search is over (limit or interrupt). */
async function scanState(broker: Broker, queue: string, state: MessageState, count: number | undefined, options: FindOptions, report: FindReport): Promise<boolean> {
  // the count is a snapshot: ask for a little more, never past --scan
  const want = count === undefined ? options.scan : Math.min(options.scan, count + Math.max(10, Math.ceil(count * 0.1)))
  const messages = await peekMessages(broker, queue, want, state, {consumeReceives: options.acceptPeekCost, match: options.where?.pushdown})
  let scanned = 0
  for (const message of messages) {
    if (options.signal?.aborted) {
      report.stoppedBy = 'interrupted'
      return true
    }
    scanned++
    report.scanned++
    if (matches(message, options)) {
      report.matched++
      await options.onMatch(message)
      if (options.limit !== undefined && report.matched >= options.limit) {
        report.stoppedBy = 'limit'
        return true
      }
    }
    if (scanned % 500 === 0) options.onProgress?.({queue, state, scanned: report.scanned, matched: report.matched})
  }
  options.onProgress?.({queue, state, scanned: report.scanned, matched: report.matched})
  if (messages.length >= want && want === options.scan && (count === undefined || count > messages.length)) {
    report.truncated.push({queue, state, scanned: messages.length, count})
  }
  return false
}

function matches(message: Message, options: FindOptions): boolean {
  if (options.since !== undefined && (message.enqueuedAt === undefined || message.enqueuedAt < options.since)) return false
  return options.where ? options.where.test(message) : true
}
