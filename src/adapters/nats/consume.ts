// consume: a few pull loops share the prefetch window (never more unsettled leases plus open pull
// requests than `prefetch`). ack → +ACK, nack → -NAK (with its delay), extend → +WPI (working),
// deadLetter → publish to STREAM_DLQ then +TERM. A lease the server's ack_wait would end before
// `leaseMs` is kept alive with +WPI. Connection loss: the client reconnects; the loops wait for it
// up to `reconnectMs`, then end. Messages a pull brings after close() are handed straight back.
import type {Consumer, ConsumerInfo, JsMsg} from '@nats-io/jetstream'
import type {ConsumeOptions, Lease, LeaseHandler, Subscription} from '../../broker/contract.js'
import {ConnectionError, NotFoundError, isUserError} from '../../kernel/errors.js'
import {fromJsMsg} from './codec.js'
import {isConnectionTrouble, isNotFound, requestError, sleep} from './errors.js'
import type {ConnectionWatch} from './watch.js'

export interface ConsumeContext {
  consumer: Consumer
  info: ConsumerInfo
  label: string
  where: string
  watch: ConnectionWatch
  /** Publishes the message to the dead-letter stream (not the term). */
  deadLetter(msg: JsMsg, reason: string): Promise<void>
}

const MAX_PULLERS = 3
const MAX_FAILURES = 8
const DEFAULT_EXPIRES_MS = 5000

interface Window {
  open: boolean
  outstanding: number
  requested: number
  /** Pulls open now. */
  pulls: number
  roomFreed: Promise<void>
  freeRoom(): void
}

function makeWindow(): Window {
  let wake!: () => void
  const w: Window = {
    open: true,
    outstanding: 0,
    requested: 0,
    pulls: 0,
    roomFreed: new Promise<void>((resolve) => (wake = resolve)),
    freeRoom: () => {
      wake()
      w.roomFreed = new Promise<void>((resolve) => (wake = resolve))
    },
  }
  return w
}

function makeLease(ctx: ConsumeContext, w: Window, msg: JsMsg, leaseMs: number | undefined): Lease {
  const ackWaitMs = Number(ctx.info.config.ack_wait ?? 30e9) / 1e6
  const maxDeliver = ctx.info.config.max_deliver ?? -1
  let settled = false
  let keepAlive: NodeJS.Timeout | undefined
  const keepUntil = (until: number) => {
    clearInterval(keepAlive)
    if (until - Date.now() <= ackWaitMs) return
    keepAlive = setInterval(() => {
      if (settled || Date.now() >= until - ackWaitMs / 2) clearInterval(keepAlive)
      if (!settled) msg.working()
    }, Math.max(100, ackWaitMs / 2))
    keepAlive.unref()
  }
  const settle = async (action: () => Promise<void> | void) => {
    if (settled) return
    settled = true
    clearInterval(keepAlive)
    w.outstanding--
    w.freeRoom()
    try {
      await action()
    } catch (error) {
      // not settled after all (no dead-letter stream, connection closed): the caller may try again
      settled = false
      w.outstanding++
      throw requestError(error, ctx.where)
    }
  }
  const toDead = async (reason: string) => {
    await ctx.deadLetter(msg, reason)
    msg.term()
  }
  if (leaseMs !== undefined) keepUntil(Date.now() + leaseMs)
  return {
    message: fromJsMsg(ctx.label, msg),
    ack: () => settle(() => msg.ack()),
    nack: (o) =>
      settle(() =>
        // the server would never deliver it again: the dead-letter route instead of a silent drop
        maxDeliver > 0 && msg.info.deliveryCount >= maxDeliver ? toDead(`max_deliver (${maxDeliver}) exhausted`) : msg.nak(o?.delayMs),
      ),
    deadLetter: (reason) => settle(() => toDead(reason)),
    extend: async (ms) => {
      if (settled) return
      msg.working()
      keepUntil(Date.now() + ms)
    },
  }
}

export function startConsumer(ctx: ConsumeContext, handler: LeaseHandler, options: ConsumeOptions): Subscription {
  const prefetch = Math.max(1, Math.floor(options.prefetch))
  const w = makeWindow()
  const stops = new Set<() => void>()
  let resolveClosed!: (error: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve))
  const end = (error: Error | undefined) => {
    if (!w.open) return
    w.open = false
    for (const stop of stops) stop()
    w.freeRoom()
    resolveClosed(error)
  }
  const deliver = (msg: JsMsg) => {
    w.requested--
    // brought by a pull after close(): hand it straight back
    if (!w.open) return msg.nak()
    w.outstanding++
    try {
      handler(makeLease(ctx, w, msg, options.leaseMs))
    } catch {
      // a throwing handler is the caller's bug; the lease stays unsettled and expires
    }
  }
  const outage = watchOutage(ctx, options, end)
  const expires = Math.max(1000, options.pollWaitMs ?? DEFAULT_EXPIRES_MS)
  const pullers = Math.min(MAX_PULLERS, Math.ceil(prefetch / 10))
  const loops = Array.from({length: pullers}, () => pullLoop(ctx, w, prefetch, expires, stops, deliver, outage, end))
  return {
    closed,
    resumes: (options.reconnectMs ?? 0) > 0,
    close: async () => {
      end(undefined)
      outage.dispose()
      await Promise.all(loops)
    },
  }
}

interface Outage {
  /** Waits out a lost connection: true once it is back, false when the subscription ended. */
  ride(error: unknown): Promise<boolean>
  dispose(): void
}

function watchOutage(ctx: ConsumeContext, options: ConsumeOptions, end: (e: Error | undefined) => void): Outage {
  const reconnectMs = options.reconnectMs ?? 0
  let lostAt: number | undefined
  const lost = (error?: Error) => {
    if (lostAt !== undefined) return
    lostAt = Date.now()
    if (reconnectMs <= 0) end(new ConnectionError(`lost the connection to ${ctx.where}${error ? `: ${error.message}` : ''}`, true))
    else options.onConnection?.('lost', error ?? new ConnectionError(`lost the connection to ${ctx.where}`, true))
  }
  const back = () => {
    if (lostAt === undefined) return
    lostAt = undefined
    options.onConnection?.('back')
  }
  const off = ctx.watch.on((up) => (up ? back() : lost()))
  return {
    ride: async (error) => {
      lost(error instanceof Error ? error : undefined)
      const left = reconnectMs - (Date.now() - (lostAt ?? Date.now()))
      if (left <= 0 || !(await ctx.watch.waitUp(left))) {
        end(new ConnectionError(`lost the connection to ${ctx.where} and it did not come back within ${reconnectMs} ms`, true))
        return false
      }
      back()
      return true
    },
    dispose: off,
  }
}

async function pullLoop(
  ctx: ConsumeContext,
  w: Window,
  prefetch: number,
  expires: number,
  stops: Set<() => void>,
  deliver: (msg: JsMsg) => void,
  outage: Outage,
  end: (e: Error | undefined) => void,
): Promise<void> {
  let failures = 0
  while (w.open) {
    const room = prefetch - w.outstanding - w.requested
    // while a pull is open, wait for a quarter of the window: many one-message pulls cost more than they bring
    if (room <= 0 || (w.pulls > 0 && room < Math.ceil(prefetch / 4))) {
      await w.roomFreed
      continue
    }
    if (!ctx.watch.up && !(await outage.ride(undefined))) return
    w.requested += room
    w.pulls++
    let got = 0
    try {
      const msgs = await ctx.consumer.fetch({max_messages: room, expires})
      const stop = () => msgs.stop()
      stops.add(stop)
      if (!w.open) msgs.stop()
      try {
        for await (const msg of msgs) {
          got++
          deliver(msg)
        }
      } finally {
        stops.delete(stop)
      }
      failures = 0
    } catch (error) {
      if (!w.open) return
      if (isNotFound(error, 'consumer') || isNotFound(error, 'stream')) return end(new NotFoundError(`${ctx.label} went away: ${(error as Error).message}`))
      if (isUserError(error) && !isConnectionTrouble(error)) return end(error as Error)
      if (!ctx.watch.up) {
        if (!(await outage.ride(error))) return
      } else if (++failures >= MAX_FAILURES) return end(requestError(error, ctx.where))
      else await sleep(Math.min(2000, 100 * 2 ** failures))
    } finally {
      w.requested -= room - got
      w.pulls--
    }
  }
}
