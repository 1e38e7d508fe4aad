// Typed events of the worker runtime. The runtime knows nothing of terminals: `work` and `bench`
// subscribe and render. Emitting costs nothing when nobody listens (the hot path checks first).
import type {Message} from '../broker/contract.js'

export interface WorkerEvents {
  /** A handler started on a delivery. `attempt` is 1 on the first delivery. */
  started: {message: Message; attempt: number}
  completed: {message: Message; attempt: number; durationMs: number; result: unknown}
  /** The handler threw, rejected or timed out. One of `retrying` / `dead` follows unless acked early. */
  failed: {message: Message; attempt: number; durationMs: number; error: Error}
  /** Handed back to the broker for another try after `delayMs` (0 when the broker cannot delay). */
  retrying: {message: Message; attempt: number; delayMs: number}
  /** Out of attempts: what happened to it is `outcome` (the worker's `onExhausted`). */
  dead: {message: Message; attempt: number; reason: string; deadLettered: boolean; outcome: DeadOutcome}
  /** Nothing running and nothing buffered (emitted once per busy → idle transition). */
  drained: Record<string, never>
  /** The broker failed to settle a lease or the subscription ended with an error. */
  error: {error: Error}
  /** The broker went away: waiting for it (up to reconnectTimeoutMs). Once per outage. */
  reconnecting: {error: Error}
  /** Consuming again after an outage of `downMs`. */
  reconnected: {downMs: number}
  /** close() finished. */
  closed: {summary: WorkerSummary}
}

/**
 * A message out of attempts was: moved to the dead state/queue; put back on the queue for another
 * round (requeued); put back while the worker stops (kept); or acked away on request (dropped).
 */
export type DeadOutcome = 'dead-lettered' | 'requeued' | 'kept' | 'dropped'

export type WorkerEventName = keyof WorkerEvents
export type WorkerListener<E extends WorkerEventName> = (event: WorkerEvents[E]) => void

export interface WorkerSummary {
  started: number
  completed: number
  failed: number
  retried: number
  /** Out of attempts and dead-lettered. */
  dead: number
  /** Out of attempts and acked away (onExhausted 'drop'). */
  dropped: number
  /** Out of attempts and put back on the queue (onExhausted 'requeue' or 'stop'). */
  kept: number
  /** Handed back unstarted at close, or still running at a forced close. */
  returned: number
  /** From start() to closed, in ms. */
  elapsedMs: number
  /** Why the worker stopped: close() called, --max-jobs reached, the queue ran empty, an error, a message out of attempts with nowhere to go. */
  reason: 'closed' | 'max-jobs' | 'empty' | 'error' | 'forced' | 'exhausted'
}

/** A tiny typed emitter: arrays of listeners per event, checked with `has` before building events. */
export class WorkerEmitter {
  private readonly listeners: {[E in WorkerEventName]?: WorkerListener<E>[]} = {}

  on<E extends WorkerEventName>(event: E, listener: WorkerListener<E>): this {
    ;((this.listeners[event] ??= []) as WorkerListener<E>[]).push(listener)
    this.onListenersChanged()
    return this
  }

  off<E extends WorkerEventName>(event: E, listener: WorkerListener<E>): this {
    const list = this.listeners[event] as WorkerListener<E>[] | undefined
    const i = list?.indexOf(listener) ?? -1
    if (list && i >= 0) list.splice(i, 1)
    this.onListenersChanged()
    return this
  }

  has(event: WorkerEventName): boolean {
    return (this.listeners[event]?.length ?? 0) > 0
  }

  protected emit<E extends WorkerEventName>(event: E, payload: WorkerEvents[E]): void {
    const list = this.listeners[event] as WorkerListener<E>[] | undefined
    if (!list) return
    for (const listener of list.slice()) listener(payload)
  }

  protected onListenersChanged(): void {}
}
