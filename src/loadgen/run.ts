// One agent's bench run on one queue: producers (closed loop with a bounded window, or open loop
// on a schedule where latency counts from the *intended* send time) and consumers running the real
// worker runtime, every processed message recorded in an HDR histogram and a sequence tracker.
import type {Broker, EnqueueOptions, OutgoingMessage} from '../broker/contract.js'
import {isTransient} from '../kernel/errors.js'
import {backoffDelay, OUTAGE_BACKOFF} from '../kernel/backoff.js'
import {DEFAULT_RECONNECT_TIMEOUT_MS, Worker, type Job} from '../runtime/worker.js'
import {LatencyRecorder, type Histogram} from './histogram.js'
import {clock, fromJsonPayload, HEADER_BYTES, PayloadFactory, toJsonPayload} from './payload.js'
import {Schedule, type BenchPlan} from './plan.js'
import {SequenceTracker} from './tracker.js'

export interface BenchProgress {
  elapsedMs: number
  sent: number
  processed: number
  /** Processed per second over the last interval. */
  rate: number
}

export interface RunInput {
  broker: Broker
  queue: string
  plan: BenchPlan
  /** This agent's index (0 when alone): the high bits of every sequence number's identity. */
  agent?: number
  /** Bytes of --payload, carried after the header. */
  body?: Buffer
  /** The broker keeps only JSON (capabilities.payload 'json'): messages travel as base64 JSON strings. */
  jsonPayloads?: boolean
  /** Graceful stop (Ctrl-C): stop producing, drain briefly, report as partial. */
  stop?: AbortSignal
  /** Forced stop: hand back everything at once. */
  force?: AbortSignal
  /** Epoch ms to start producing at (agents start together). */
  startAt?: number
  /** After producing, consumers run until every sent message is processed, or (agents) this says the queue is idle, or drainMs passes. */
  drainCheck?: () => Promise<boolean>
  onProgress?: (progress: BenchProgress) => void
  /** How long producers and consumers wait out a broker outage before giving up. Default 60 s. */
  reconnectTimeoutMs?: number
}

export interface RunOutcome {
  partial: boolean
  /** Messages the broker confirmed. */
  sent: number
  /** Sequence numbers claimed whose enqueue failed (so they are not counted as lost). */
  sendFailed: number
  /** Handler completions, duplicates included. */
  processed: number
  redeliveries: number
  /** Enqueue calls that failed. */
  errors: number
  /** Batches (or their unconfirmed part) sent again after a connection failure. */
  resent: number
  /** Messages on the queue that were not bench messages. */
  foreign: number
  startedAt: number
  lastSendAt: number
  lastDoneAt: number
  histogram: Histogram
  tracker: SequenceTracker
  lastError?: string
}

/** Open loop: enqueue calls one producer keeps in flight at once, so a slow confirm never delays the next due batch. */
const OPEN_SENDS_IN_FLIGHT = 16

const sleep = (ms: number) => new Promise<void>((resolve) => (ms < 1 ? setImmediate(resolve) : setTimeout(resolve, ms)))

export async function runBench(input: RunInput): Promise<RunOutcome> {
  return new BenchRun(input).run()
}

/** One run's state: the counters of its outcome, the sequence numbers handed out, the producers' window. */
class BenchRun {
  private readonly latency = new LatencyRecorder()
  private readonly tracker = new SequenceTracker()
  private readonly out: RunOutcome
  private readonly plan: BenchPlan
  private readonly agent: number
  private readonly json: boolean
  private readonly factory: PayloadFactory
  private readonly reconnectTimeoutMs: number
  // each payload is a fresh view the bench never touches again
  private readonly enqueueOptions: EnqueueOptions
  private readonly lowWater: number
  private nextSeq = 0
  private claimed = 0
  private producing = true
  private wake: (() => void) | undefined
  // latency counts for messages sent from here on (after --warmup); every agent uses the shared start
  private measureFrom = -Infinity
  private warmupMs = 0
  private endAt = Infinity
  private outageSince: number | undefined
  private lastYield = clock()

  constructor(private readonly input: RunInput) {
    const {plan} = input
    this.plan = plan
    this.agent = input.agent ?? 0
    this.json = input.jsonPayloads === true
    this.factory = new PayloadFactory(plan.sizeBytes, input.body)
    this.reconnectTimeoutMs = input.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS
    this.enqueueOptions = {transferPayloads: true, ids: false, persistent: plan.persistent, confirms: plan.confirms}
    this.lowWater = Math.floor(plan.inflight / 2)
    this.out = {
      partial: false, sent: 0, sendFailed: 0, processed: 0, redeliveries: 0, errors: 0, resent: 0, foreign: 0,
      startedAt: 0, lastSendAt: 0, lastDoneAt: 0, histogram: undefined as unknown as Histogram, tracker: this.tracker,
    }
  }

  private readonly notify = (): void => {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private readonly stopAll = (): void => {
    this.producing = false
    this.notify()
  }

  async run(): Promise<RunOutcome> {
    const {input, plan, out} = this
    const workers = Array.from({length: plan.consumers}, () =>
      new Worker(input.broker, input.queue, this.handler, {concurrency: plan.concurrency, prefetch: plan.prefetch, maxAttempts: Number.MAX_SAFE_INTEGER, reconnectTimeoutMs: this.reconnectTimeoutMs}),
    )
    input.stop?.addEventListener('abort', this.stopAll)
    input.force?.addEventListener('abort', this.stopAll)
    let ticker: NodeJS.Timeout | undefined
    try {
      await Promise.all(workers.map((w) => w.start()))
      if (input.startAt !== undefined) await sleep(Math.max(0, input.startAt - clock()))
      out.startedAt = clock()
      this.warmupMs = plan.warmupMs ?? 0
      if (this.warmupMs > 0) this.measureFrom = (input.startAt ?? out.startedAt) + this.warmupMs
      this.endAt = plan.durationMs !== undefined ? out.startedAt + this.warmupMs + plan.durationMs : Infinity
      ticker = this.startTicker()
      const producers = Array.from({length: plan.producers}, (_, i) => (plan.mode === 'open' ? this.openProducer(i) : this.closedProducer()))
      await Promise.all(producers)
      this.producing = false
      await this.drain()
    } finally {
      clearInterval(ticker)
      input.stop?.removeEventListener('abort', this.stopAll)
      input.force?.removeEventListener('abort', this.stopAll)
      await Promise.all(workers.map((w) => w.close(true)))
      out.histogram = this.latency.flush()
    }
    return out
  }

  private readonly handler = (job: Job): unknown => {
    if (job.attempt > 1) this.out.redeliveries++
    const payload = job.message.payload
    if (this.plan.workMs > 0) return sleep(this.plan.workMs).then(() => this.record(payload))
    this.record(payload)
    return undefined
  }

  private record(received: Buffer): void {
    const {out} = this
    const payload = this.json ? fromJsonPayload(received) : received
    if (payload.length < HEADER_BYTES || payload.readUInt16LE(14) !== 0x5142) {
      out.foreign++
      return
    }
    const now = clock()
    const sentAt = payload.readDoubleLE(0)
    if (sentAt >= this.measureFrom) this.latency.record(Math.round((now - sentAt) * 1000))
    this.tracker.mark(payload.readUInt16LE(12), payload.readUInt32LE(8))
    out.processed++
    out.lastDoneAt = now
    // refill the closed-loop window in batches, not one message at a time
    if (this.wake !== undefined && out.sent - out.processed <= this.lowWater) this.notify()
  }

  private make(sentAt: number, seq: number): Buffer {
    const payload = this.factory.make(sentAt, seq, this.agent)
    return this.json ? toJsonPayload(payload) : payload
  }

  /** Takes up to `want` sequence numbers, fewer once --count is reached. */
  private claim(want: number): number {
    const n = this.plan.count !== undefined ? Math.min(want, this.plan.count - this.claimed) : want
    this.claimed += n
    return n
  }

  // A connection failure (broker restart) is waited out: the batch, or the part of it the broker
  // did not confirm, is sent again until it goes through, for up to reconnectTimeoutMs of
  // continuous failure. A message whose first send was stored after all arrives twice: the
  // tracker counts it as a duplicate (at-least-once), never as lost. Anything else, or a longer
  // outage, counts the unconfirmed messages as not sent (sendFailed) and carries on.
  private async send(messages: OutgoingMessage[]): Promise<void> {
    const {out, input} = this
    let pending = messages
    for (let attempt = 1; ; attempt++) {
      try {
        await input.broker.enqueue(input.queue, pending, this.enqueueOptions)
        out.sent += pending.length
        this.outageSince = undefined
        break
      } catch (error) {
        out.errors++
        out.lastError = (error as Error)?.message ?? String(error)
        const e = error as {sent?: unknown; pending?: unknown}
        // which messages may still be missing: the adapter's list, else all of them
        const unconfirmed = Array.isArray(e.pending) ? (e.pending as number[]).map((i) => pending[i]!) : pending
        out.sent += pending.length - unconfirmed.length
        this.outageSince ??= clock()
        const retry = isTransient(error) && this.producing && clock() - this.outageSince < this.reconnectTimeoutMs && !input.force?.aborted
        if (!retry) {
          // without the adapter's list, its confirmed count is all we know
          const confirmed = Array.isArray(e.pending) ? 0 : typeof e.sent === 'number' ? e.sent : 0
          out.sent += confirmed
          out.sendFailed += unconfirmed.length - confirmed
          await sleep(50) // a failing broker is not hammered in a tight loop
          break
        }
        out.resent++
        pending = unconfirmed
        await sleep(backoffDelay(attempt, OUTAGE_BACKOFF))
      }
    }
    out.lastSendAt = clock()
  }

  // An in-process broker settles everything in microtasks: yield now and then so timers, I/O
  // and signals (Ctrl-C) get their turn.
  private async yieldSometimes(): Promise<void> {
    if (clock() - this.lastYield < 5) return
    await new Promise((resolve) => setImmediate(resolve))
    this.lastYield = clock()
  }

  private async closedProducer(): Promise<void> {
    const {plan, out} = this
    while (this.producing && clock() < this.endAt) {
      await this.yieldSometimes()
      const room = plan.inflight - (out.sent - out.processed)
      if (room <= 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
          setTimeout(this.notify, 100) // re-check the clock even if nothing is processed
        })
        continue
      }
      const n = this.claim(Math.min(plan.batch, room))
      if (n === 0) return
      const t = clock()
      const batch = new Array<OutgoingMessage>(n)
      for (let k = 0; k < n; k++) batch[k] = {payload: this.make(t, this.nextSeq++)}
      await this.send(batch)
    }
  }

  private async openProducer(index: number): Promise<void> {
    const {plan, out} = this
    const perProducer = plan.steps!.map((s) => ({rate: s.rate / plan.producers, durationMs: s.durationMs}))
    // the warm-up runs at the first step's rate, then the schedule proper
    if (this.warmupMs > 0) perProducer.unshift({rate: perProducer[0]!.rate, durationMs: this.warmupMs})
    const schedule = new Schedule(perProducer)
    const offset = (index * 1000) / plan.steps![0]!.rate
    const total = plan.count !== undefined ? Math.ceil(plan.count / plan.producers) : schedule.countWithin(this.warmupMs + (plan.durationMs ?? Infinity))
    let i = 0
    const sending = new Set<Promise<void>>()
    while (this.producing && i < total) {
      await this.yieldSometimes()
      const now = clock() - out.startedAt
      let n = 0
      while (i + n < total && n < plan.batch && schedule.at(i + n) + offset <= now) n++
      if (n === 0) {
        // a real timer, never a setImmediate spin: a busy-looping process gets descheduled on a
        // loaded machine, and the stall would show up (honestly, but needlessly) in the tail
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, schedule.at(i) + offset - now)))
        continue
      }
      n = this.claim(n)
      if (n === 0) break
      const batch = new Array<OutgoingMessage>(n)
      for (let k = 0; k < n; k++) batch[k] = {payload: this.make(out.startedAt + schedule.at(i + k) + offset, this.nextSeq++)}
      i += n
      // not awaited: the schedule, not the broker's confirm time, decides when the next batch goes
      const sent = this.send(batch).finally(() => sending.delete(sent))
      sending.add(sent)
      if (sending.size >= OPEN_SENDS_IN_FLIGHT) await Promise.race(sending)
    }
    await Promise.all(sending)
  }

  private startTicker(): NodeJS.Timeout {
    const {out} = this
    let lastProcessed = 0
    let lastTick = out.startedAt
    const ticker = setInterval(() => {
      const t = clock()
      const rate = ((out.processed - lastProcessed) * 1000) / Math.max(1, t - lastTick)
      lastProcessed = out.processed
      lastTick = t
      this.input.onProgress?.({elapsedMs: t - out.startedAt, sent: out.sent, processed: out.processed, rate})
    }, 250)
    ticker.unref()
    return ticker
  }

  /** Consumers finish what was sent (or what every agent sent), bounded by --drain. */
  private async drain(): Promise<void> {
    const {input, plan, out} = this
    const interrupted = () => Boolean(input.stop?.aborted || input.force?.aborted)
    const drainUntil = clock() + (interrupted() ? Math.min(plan.drainMs, 2000) : plan.drainMs)
    if (input.drainCheck) {
      while (!(await input.drainCheck()) && clock() < drainUntil && !input.force?.aborted) await sleep(100)
    } else {
      while (this.tracker.unique < out.sent && clock() < drainUntil && !input.force?.aborted) await sleep(5)
    }
    out.partial = interrupted()
  }
}
