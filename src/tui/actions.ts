// The queue actions of the detail view, carried out once the user confirmed them, with the same
// services (src/services/ops) as `queue purge`, `queue retry` and `queue move` (and the same audit log).
// Each resolves with one status line for the screen.
import type {Broker} from '../broker/contract.js'
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
      const removed = await broker.purge(queue, state)
      await audit('purge', {removed}, {state})
      return `purged ${plural(removed, `${state} message`)} of "${queue}"`
    }
    case 'retry': {
      const report = await retryMessages(broker, queue, {state: action.state ?? 'dead', batchSize: BATCH_SIZE, idleMs: IDLE_MS})
      await audit('retry', {retried: report.retried, failed: report.failed}, {state: action.state, from: report.via, error: report.error?.message})
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
      const limit = (await broker.stats(from)).counts.waiting
      if (limit === 0) return `nothing waiting in "${queue}" to move`
      const report = await moveMessages(broker, from, broker, to, {limit, batchSize: BATCH_SIZE, idleMs: IDLE_MS})
      await audit('move', {moved: report.done, failed: report.failed}, {to, outcome: report.stoppedBy, error: report.error?.message})
      if (report.error) throw report.error
      return `moved ${plural(report.done, 'message')} from "${queue}" to "${to}"`
    }
  }
}
