// The consume loop every Redis flavor shares: the kit's poll loop, waiting out what ioredis reports
// as a lost connection (it reconnects in the background). Flavors supply `fetch` and how to settle one item.
import type {ConsumeOptions, LeaseHandler, Subscription} from '../../broker/contract.js'
import {startPollLoop, type PollLoopSpec} from '../../broker/kit/poll-loop.js'
import {isConnectionFailure} from './connection.js'

/** What a flavor adds to the consume options: how to fetch, settle, keep up and let go. */
export type LoopSpec = Omit<PollLoopSpec, 'isConnectionFailure' | 'prefetch' | 'handler' | 'reconnectMs' | 'onConnection' | 'describeError'>

export function startLoop(handler: LeaseHandler, options: ConsumeOptions, spec: LoopSpec): Subscription {
  return startPollLoop({
    prefetch: options.prefetch,
    handler,
    reconnectMs: options.reconnectMs,
    onConnection: options.onConnection,
    describeError: (error) => error as Error,
    isConnectionFailure,
    ...spec,
  })
}
