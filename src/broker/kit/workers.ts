// What every adapter's `workers` shares: keeping the workers of the queues asked for, and marking
// a heartbeat older than the library's own threshold (or the caller's) stale.
import type {WorkerInfo, WorkersOptions} from '../contract.js'

/** Whether `name` (as the worker lists it, e.g. `bullmq:emails`) is one of `asked` (`bullmq:emails` or a bare `emails`). */
export function queueMatches(name: string, asked: readonly string[]): boolean {
  if (asked.length === 0) return true
  const bare = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name
  return asked.some((q) => q === name || q === bare)
}

/** The workers on the queues asked for (all when none are), each marked stale past `thresholdMs` since its last heartbeat. */
export function selectWorkers(workers: WorkerInfo[], options: WorkersOptions, thresholdMs?: number, now = Date.now()): WorkerInfo[] {
  const threshold = options.staleAfterMs ?? thresholdMs
  return workers
    .filter((w) => options.queues.length === 0 || w.queues.some((q) => queueMatches(q, options.queues)))
    .map((w) => (threshold !== undefined && w.lastSeenAt !== undefined && now - w.lastSeenAt > threshold ? {...w, stale: true} : w))
}
