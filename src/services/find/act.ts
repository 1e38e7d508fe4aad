// What the bulk actions share when given --where: the matching jobs of one state (read through
// find's bounded scan, so only those are touched), a dry run's count and sample, and one job by id.
import type {Broker, Message, MessageState} from '../../broker/contract.js'
import {NotFoundError, NotSupportedError} from '../../kernel/errors.js'
import {payloadPreview} from '../envelope.js'
import type {Where} from './expression.js'
import {findJobs, type FindReport} from './find.js'

export const DEFAULT_SCAN = 10_000

export interface Selection {
  matches: Message[]
  report: FindReport
}

/** The jobs of `queue` in `state` that match, at most `limit`, reading at most `scan`. */
export async function selectJobs(broker: Broker, queue: string, where: Where, state: MessageState, options: {limit?: number; scan?: number} = {}): Promise<Selection> {
  const matches: Message[] = []
  const report = await findJobs(broker, [queue], {where, states: [state], limit: options.limit, scan: options.scan ?? DEFAULT_SCAN, onMatch: (m) => void matches.push(m)})
  return {matches, report}
}

/** "3 matching dead jobs of "q" (name == "x"); e.g. 12 boom {"a":1}, …" — a dry run's line. */
export function describeSelection(verb: string, sel: Selection, state: MessageState, queue: string, where: Where, sample = 5): string[] {
  const n = sel.matches.length
  const lines = [`would ${verb} ${n} ${state} job${n === 1 ? '' : 's'} of "${queue}" matching ${where.text} (of ${sel.report.scanned} read; dry run: nothing changed)`]
  for (const m of sel.matches.slice(0, sample)) lines.push(`  ${m.id}  ${m.name ?? ''}  ${payloadPreview(m, 50)}`)
  if (n > sample) lines.push(`  … and ${n - sample} more`)
  return lines
}

/** Notes the user should see after a --where selection: what --scan left unread, what the expression could not read. */
export function selectionNotes(sel: Selection, where: Where): string[] {
  const notes = sel.report.truncated.map((t) => `note: only the first ${t.scanned}${t.count === undefined ? '' : ` of ${t.count}`} ${t.state} jobs of "${t.queue}" were read — raise --scan to act on more`)
  if (where.failures.count > 0) notes.push(`note: the expression could not be evaluated on ${where.failures.count} job(s), counted as not matching; first: ${where.failures.first}`)
  return notes
}

/** One job by id, wherever it is (or in `state`): NotFoundError when no state holds it. */
export async function findJobById(broker: Broker, queue: string, id: string, options: {state?: MessageState; scan?: number; acceptPeekCost?: boolean} = {}): Promise<Message> {
  const byId: Where = {text: `id == ${JSON.stringify(id)}`, failures: {count: 0}, test: (m) => m.id === id, pushdown: {all: [{path: ['id'], equals: id}]}}
  let found: Message | undefined
  const report = await findJobs(broker, [queue], {where: byId, states: options.state ? [options.state] : undefined, limit: 1, scan: options.scan ?? DEFAULT_SCAN, acceptPeekCost: options.acceptPeekCost, onMatch: (m) => void (found = m)})
  if (found) return found
  const unread = report.truncated.length > 0 ? ` (only the first ${options.scan ?? DEFAULT_SCAN} jobs of each state were read — raise --scan)` : ''
  throw new NotFoundError(`no job "${id}" in ${options.state ? `the ${options.state} jobs of ` : ''}"${queue}" on ${broker.displayUrl}${unread}`)
}

/** Refuses a per-job delete where the queue cannot do one in `state`. */
export async function checkRemovable(broker: Broker, queue: string, state: MessageState): Promise<void> {
  await broker.stats(queue) // NotFoundError (exit 4) first
  const caps = await broker.capabilitiesOf(queue)
  if (!caps.remove) {
    await broker.remove(queue, [], state) // refuses with the broker's own advice
    throw new NotSupportedError(`queue "${queue}" on ${broker.displayUrl} cannot delete single jobs by id`)
  }
  if (!caps.remove.states.includes(state)) {
    throw new NotSupportedError(`queue "${queue}" on ${broker.displayUrl} cannot delete single "${state}" jobs — it can from: ${caps.remove.states.join(', ')}`)
  }
}
