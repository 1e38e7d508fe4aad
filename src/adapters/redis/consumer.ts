// The consume loop every Redis flavor shares: fetch up to `prefetch - outstanding` leases, hand
// them out, back off while the queue is empty, run periodic upkeep (expired-lease recovery), stop
// on close. A lost connection is waited out (ioredis reconnects in the background) for up to
// `reconnectMs`, backing off with jitter; leases handed out before it stay valid: settled once Redis
// is back, or redelivered when they expire. Flavors supply `fetch` and how to settle one item.
import type {ConsumeOptions, Lease, LeaseHandler, Message, NackOptions, Subscription} from '../../broker/contract.js'
import {backoffDelay, OUTAGE_BACKOFF} from '../../kernel/backoff.js'
import {isConnectionFailure} from './connection.js'

export interface SettleOps {
  ack(): Promise<void>
  nack(options?: NackOptions): Promise<void>
  deadLetter(reason: string): Promise<void>
  extend(ms: number): Promise<void>
}

export interface LoopSpec {
  prefetch: number
  handler: LeaseHandler
  /** Leases up to `n` items; [] when there is nothing now. */
  fetch(n: number): Promise<{message: Message; ops: SettleOps}[]>
  /** Periodic upkeep (requeue expired leases…), run about every `upkeepMs`. */
  upkeep?(): Promise<void>
  upkeepMs?: number
  /** Longest sleep between polls of an empty queue. */
  maxIdleMs?: number
  /** Turns a failure into the error `closed` resolves with. */
  describeError(error: unknown): Error
  /** Releases what the loop held (a blocking connection, a library worker), once. */
  dispose?(): Promise<void>
  /** How long to keep retrying while the connection is lost before ending with the error (0: end at once). */
  reconnectMs?: number
  onConnection?: ConsumeOptions['onConnection']
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function startLoop(spec: LoopSpec): Subscription {
  let open = true
  let outstanding = 0
  let wake: (() => void) | undefined
  let resolveClosed!: (error: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve))
  const prefetch = Math.max(1, spec.prefetch)
  const maxIdle = spec.maxIdleMs ?? 100
  let disposed: Promise<void> | undefined
  const dispose = () => (disposed ??= (spec.dispose?.() ?? Promise.resolve()).catch(() => {}))

  const settleOnce = (ops: SettleOps): SettleOps => {
    let settled = false
    const once =
      <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
      async (...args: A) => {
        if (settled) return
        settled = true
        outstanding--
        wake?.()
        await fn(...args)
      }
    return {
      ack: once(() => ops.ack()),
      nack: once((o?: NackOptions) => ops.nack(o)),
      deadLetter: once((reason: string) => ops.deadLetter(reason)),
      extend: async (ms: number) => (settled ? undefined : ops.extend(ms)),
    }
  }

  const run = async () => {
    let idle = 1
    let lastUpkeep = 0
    let outageSince: number | undefined
    let failures = 0
    while (open) {
      try {
        if (spec.upkeep && Date.now() - lastUpkeep >= (spec.upkeepMs ?? 1000)) {
          lastUpkeep = Date.now()
          await spec.upkeep()
        }
        const room = prefetch - outstanding
        if (room <= 0) {
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, Math.min(spec.upkeepMs ?? 1000, 1000))
          })
          wake = undefined
          continue
        }
        const got = await spec.fetch(room)
        if (outageSince !== undefined) {
          outageSince = undefined
          failures = 0
          spec.onConnection?.('back')
        }
        if (got.length === 0) {
          await sleep(idle)
          idle = Math.min(maxIdle, idle * 2)
          continue
        }
        idle = 1
        for (const {message, ops} of got) {
          outstanding++
          const settle = settleOnce(ops)
          const lease: Lease = {message, ...settle}
          if (!open) {
            // fetched while closing: give it straight back rather than strand it
            await lease.nack().catch(() => {})
            continue
          }
          spec.handler(lease)
        }
      } catch (error) {
        if (!open) break
        if (outageSince === undefined) {
          outageSince = Date.now()
          if (isConnectionFailure(error) && (spec.reconnectMs ?? 0) > 0) spec.onConnection?.('lost', spec.describeError(error))
        }
        if (isConnectionFailure(error) && Date.now() - outageSince < (spec.reconnectMs ?? 0)) {
          // Redis is away: wait (interruptibly, so close() stays prompt) and try again
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, backoffDelay(++failures, OUTAGE_BACKOFF))
          })
          wake = undefined
          continue
        }
        open = false
        await dispose()
        resolveClosed(spec.describeError(error))
        return
      }
    }
  }
  const running = run()

  return {
    closed,
    resumes: (spec.reconnectMs ?? 0) > 0,
    close: async () => {
      if (!open) {
        await running
        return
      }
      open = false
      wake?.()
      await running
      await dispose()
      resolveClosed(undefined)
    },
  }
}
