// The queue actions of the detail view, carried out once the user confirmed them, with the same
// services (src/services/ops) as `queue purge`, `queue retry` and `queue move` (and the same audit log).
// Each resolves with one status line for the screen.
import type {Broker, Message} from '../broker/contract.js'
import {writeAudit} from '../services/ops/audit.js'
import {checkDestination, moveMessages, sourceQueue} from '../services/ops/move.js'
import {retryMessages} from '../services/ops/retry.js'
import type {PendingAction} from './keys.js'

const BATCH_SIZE = 100
const IDLE_MS = 1000

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

export async function runAction(broker: Broker, action: PendingAction): Promise<string> {
  const {queue} = action
  const audit = (command: string, counts: Record<string, number>, details: Record<string, unknown> = {}) =>
    writeAudit({command, url: broker.displayUrl, queue, counts, details: {...details, via: 'top'}})
  switch (action.kind) {
    case 'purge': {
      const state = action.state ?? 'waiting'
      if (action.ids) {
        // the filtered jobs only, one by one by id (the library's own removal), as `purge --where`
        const removed = await broker.remove(queue, action.ids, state)
        await audit('purge', {removed, matched: action.ids.length}, {state, where: action.where})
        return `deleted ${plural(removed, `filtered ${state} job`)} of "${queue}"${removed < action.ids.length ? ` (${action.ids.length - removed} had left ${state})` : ''}`
      }
      const removed = await broker.purge(queue, state)
      await audit('purge', {removed}, {state})
      return `purged ${plural(removed, `${state} message`)} of "${queue}"`
    }
    case 'retry': {
      const ids = action.ids ? [...action.ids] : undefined
      const report = await retryMessages(broker, queue, {state: action.state ?? 'dead', ids, batchSize: BATCH_SIZE, idleMs: IDLE_MS})
      const matched: Record<string, number> = ids ? {matched: ids.length} : {}
      await audit('retry', {retried: report.retried, failed: report.failed, ...matched}, {state: action.state, where: action.where, from: report.via, error: report.error?.message})
      if (report.error) throw report.error
      return `retried ${plural(report.retried, 'message')} of "${queue}"${report.via === 'broker' ? '' : ` from ${report.via}`}`
    }
    case 'pause':
    case 'resume': {
      // the broker refuses, with its advice, a queue that cannot pause
      await (action.kind === 'pause' ? broker.pause(queue) : broker.resume(queue))
      return `${action.kind === 'pause' ? 'paused' : 'resumed'} "${queue}"`
    }
    case 'move': {
      const to = action.to!
      const from = await sourceQueue(broker, queue, 'waiting')
      await checkDestination(broker, to, false)
      // what waits now; what arrives meanwhile stays
      const ids = action.ids ? new Set(action.ids) : undefined
      const limit = ids ? ids.size : (await broker.stats(from)).counts.waiting
      if (limit === 0) return `nothing waiting in "${queue}" to move`
      const filter = ids ? (m: Message) => ids.has(m.id) : undefined
      const report = await moveMessages(broker, from, broker, to, {limit, filter, batchSize: BATCH_SIZE, idleMs: IDLE_MS})
      await audit('move', {moved: report.done, failed: report.failed}, {to, where: action.where, outcome: report.stoppedBy, error: report.error?.message})
      if (report.error) throw report.error
      return `moved ${plural(report.done, 'message')} from "${queue}" to "${to}"`
    }
  }
}
