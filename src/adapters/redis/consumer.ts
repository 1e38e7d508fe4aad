// The consume loop every Redis flavor shares: the kit's poll loop, waiting out what ioredis reports
// as a lost connection (it reconnects in the background). Flavors supply `fetch` and how to settle one item.
import type {Subscription} from '../../broker/contract.js'
import {startPollLoop, type PollLoopSpec} from '../../broker/kit/poll-loop.js'
import {isConnectionFailure} from './connection.js'

export type LoopSpec = Omit<PollLoopSpec, 'isConnectionFailure'>

export function startLoop(spec: LoopSpec): Subscription {
  return startPollLoop({...spec, isConnectionFailure})
}
