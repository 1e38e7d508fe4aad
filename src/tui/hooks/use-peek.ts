// Peeked messages of the queue in detail. Peeks again every interval only where peeking is free
// (`exact`); where it requeues or bumps receive counts, only when asked (the `token` changes).
// Each peek is time-bound and a late answer for an older request is dropped.
import {useEffect, useState} from 'react'
import type {Broker, Capabilities, MessageState} from '../../broker/contract.js'
import {redactText} from '../../kernel/redact.js'
import {formatDuration} from '../../kernel/units.js'
import {peekMessages} from '../../services/inspect.js'
import type {PeekResult} from '../components/queue-detail.js'

export interface PeekOptions {
  limit: number
  intervalMs: number
  paused: boolean
  /** Changing it peeks again. */
  token: number
  timeoutMs?: number
}

function peekNote(caps: Capabilities | undefined): string | undefined {
  if (caps?.peek === 'requeue') return 'peek requeues (redelivered flag set, no attempt counted); r peeks again'
  if (caps?.peek === 'visibility') return 'peek raises receive counts; r peeks again'
  return undefined
}

/** Peeks once `caps` (the queue's own capabilities) are known. */
export function usePeek(broker: Broker | undefined, queue: string | undefined, caps: Capabilities | undefined, state: MessageState, options: PeekOptions): PeekResult {
  const [result, setResult] = useState<PeekResult>({state, messages: [], loading: false})
  const {limit, intervalMs, paused, token} = options
  const timeoutMs = options.timeoutMs ?? Math.max(2000, intervalMs * 2)

  useEffect(() => {
    if (!broker || queue === undefined) return
    if (!caps) {
      setResult({state, messages: [], loading: true})
      return
    }
    let cancelled = false
    let timer: NodeJS.Timeout | undefined
    const note = peekNote(caps)
    const repeat = caps.peek === 'exact' && !paused
    if (caps.peek === 'none') {
      setResult({state, messages: [], loading: false, error: `${broker.displayUrl} cannot peek without consuming`})
      return
    }
    if (!caps.states.includes(state)) {
      setResult({state, messages: [], loading: false, error: `${broker.transport} keeps no ${state} messages`})
      return
    }
    const once = async (): Promise<void> => {
      setResult((prev) => ({...prev, state, note, loading: true, messages: prev.state === state ? prev.messages : []}))
      let deadline: NodeJS.Timeout | undefined
      try {
        const messages = await Promise.race([
          // the service inspect and export use: the same refusals (an SQS redrive policy) show in the pane
          peekMessages(broker, queue, limit, state),
          new Promise<never>((_, reject) => {
            deadline = setTimeout(() => reject(new Error(`no answer within ${formatDuration(timeoutMs)}`)), timeoutMs)
          }),
        ])
        if (!cancelled) setResult({state, messages, loading: false, note})
      } catch (error) {
        if (!cancelled) setResult((prev) => ({...prev, loading: false, error: redactText(String((error as Error)?.message ?? error))}))
      } finally {
        clearTimeout(deadline)
      }
      if (!cancelled && repeat) timer = setTimeout(() => void once(), intervalMs)
    }
    void once()
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [broker, queue, caps, state, limit, intervalMs, paused, token, timeoutMs])

  return result
}
