// The words users type for states, mapped onto the contract's MessageState.
import {MESSAGE_STATES, type MessageState} from '../broker/contract.js'
import {UsageError} from '../kernel/errors.js'

const ALIASES: Record<string, MessageState> = {
  waiting: 'waiting', wait: 'waiting', ready: 'waiting', pending: 'waiting', queued: 'waiting', enqueued: 'waiting',
  inflight: 'inflight', 'in-flight': 'inflight', active: 'inflight', unacked: 'inflight', started: 'inflight', running: 'inflight',
  delayed: 'delayed', scheduled: 'delayed', deferred: 'delayed',
  retry: 'retry', retrying: 'retry',
  dead: 'dead', failed: 'dead', archived: 'dead', dlq: 'dead',
  completed: 'completed', finished: 'completed', done: 'completed',
  paused: 'paused',
}

export function parseState(text: string): MessageState {
  const state = ALIASES[text.trim().toLowerCase()]
  if (!state) {
    throw new UsageError(`unknown state "${text}" — use one of: ${MESSAGE_STATES.join(', ')} (aliases: failed, active, scheduled, archived…)`)
  }
  return state
}

export const STATE_WORDS = Object.keys(ALIASES)
