// The preamble every peek shares, so that each adapter writes only its read.
import type {Message, MessageState, PeekOptions} from '../contract.js'

/**
 * Opens the queue first (a missing queue or a state it does not keep is an error even for limit
 * 0), then reads `limit` messages of the state (default waiting); limit 0 reads nothing. The guard
 * (./guard.ts) has already refused a state outside the queue's capabilities and answered limit 0.
 */
export async function peekWith<T>(
  options: PeekOptions,
  open: (state: MessageState) => Promise<T>,
  read: (target: T, state: MessageState, limit: number) => Promise<Message[]>,
): Promise<Message[]> {
  const state = options.state ?? 'waiting'
  const target = await open(state)
  const limit = Math.max(0, options.limit)
  if (limit === 0) return []
  return read(target, state, limit)
}
