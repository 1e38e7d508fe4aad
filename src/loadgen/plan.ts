// What a bench run will do, parsed and checked before anything connects: closed or open loop,
// how long, how fast (constant or stepped rate), message shape. Bad combinations are refused here.
import type {Capabilities, PublishChoice} from '../broker/contract.js'
import {UsageError} from '../kernel/errors.js'
import {formatDuration, parseDuration, parseRate, parseSize} from '../kernel/units.js'
import {HEADER_BYTES} from './payload.js'

export interface RateStep {
  /** Messages per second during this step. */
  rate: number
  /** Length of the step in ms (Infinity for the last step of an unbounded run). */
  durationMs: number
}

export interface BenchPlan {
  mode: 'closed' | 'open'
  /** Total messages to send (all producers of this agent), or undefined when time-bound. */
  count?: number
  /** How long to produce, in ms, or undefined when count-bound. */
  durationMs?: number
  /** Open loop only: the arrival schedule. */
  steps?: RateStep[]
  producers: number
  consumers: number
  concurrency: number
  prefetch: number
  /** Closed loop: most messages sent but not yet processed, per agent. */
  inflight: number
  batch: number
  sizeBytes: number
  workMs: number
  /** How long to wait for stragglers after producing stops. */
  drainMs: number
  /**
   * Produce this long first (at the first step's rate in an open loop) without recording latency:
   * JIT compilation and connection warm-up stay out of the percentiles. The messages still count
   * for lost/duplicated and throughput. Added before --duration; part of --count.
   */
  warmupMs: number
  /** --persistent / --no-persistent; undefined: the broker's default. */
  persistent?: boolean
  /** --confirms / --no-confirms; undefined: the broker's default. */
  confirms?: boolean
}

export interface PlanInput {
  count?: number
  duration?: string
  rate?: string
  producers: number
  consumers: number
  concurrency: number
  prefetch?: number
  inflight?: number
  batch: number
  size: string
  payloadBytes?: number
  workMs: number
  drain: string
  warmup?: string
  persistent?: boolean
  confirms?: boolean
}

export const DEFAULT_DURATION = '5s'

export function planBench(input: PlanInput): BenchPlan {
  if (input.count !== undefined && input.duration !== undefined) {
    throw new UsageError('--count and --duration both given — choose one: --count 100000 or --duration 10s')
  }
  if (input.count !== undefined && input.count < 1) throw new UsageError(`--count ${input.count} must be at least 1`)
  let durationMs = input.duration !== undefined ? parseDuration(input.duration, '--duration') : undefined
  if (durationMs !== undefined && durationMs <= 0) throw new UsageError(`--duration ${input.duration} must be above zero, e.g. 10s`)
  const steps = input.rate === undefined ? undefined : parseRatePlan(input.rate)
  if (steps && durationMs === undefined && input.count === undefined) {
    const total = steps.reduce((sum, s) => sum + s.durationMs, 0)
    durationMs = Number.isFinite(total) ? total : parseDuration(DEFAULT_DURATION)
  }
  if (!steps && durationMs === undefined && input.count === undefined) durationMs = parseDuration(DEFAULT_DURATION)
  const sizeBytes = input.payloadBytes !== undefined ? input.payloadBytes + HEADER_BYTES : parseSize(input.size, '--size')
  if (sizeBytes < HEADER_BYTES) {
    throw new UsageError(`--size ${input.size} is below ${HEADER_BYTES}B — every bench message carries a ${HEADER_BYTES}-byte header (send time and sequence number)`)
  }
  const concurrency = input.concurrency
  return {
    mode: steps ? 'open' : 'closed',
    count: input.count,
    durationMs,
    steps,
    producers: input.producers,
    consumers: input.consumers,
    concurrency,
    prefetch: Math.max(concurrency, input.prefetch ?? concurrency),
    inflight: input.inflight ?? Math.max(1000, 4 * input.consumers * Math.max(concurrency, input.prefetch ?? 0)),
    batch: input.batch,
    sizeBytes,
    workMs: input.workMs,
    drainMs: parseDuration(input.drain, '--drain'),
    warmupMs: input.warmup === undefined ? 0 : parseDuration(input.warmup, '--warmup'),
    persistent: input.persistent,
    confirms: input.confirms,
  }
}

const CHOICE_TEXT: Record<PublishChoice, string> = {
  choice: 'a choice',
  always: 'always on',
  never: 'never on',
  server: "set by the server's configuration, not per message",
}

/**
 * --persistent / --confirms (or their --no- forms) where the broker cannot honour them: a usage
 * error naming the capability, before anything is sent. Asking for what is always so is fine.
 */
export function checkPublishOptions(plan: Pick<BenchPlan, 'persistent' | 'confirms'>, capabilities: Capabilities, where: string): void {
  for (const name of ['persistent', 'confirms'] as const) {
    const wanted = plan[name]
    if (wanted === undefined) continue
    const has = capabilities.publish?.[name]
    if (has === 'choice' || (has === 'always' && wanted) || (has === 'never' && !wanted)) continue
    const flag = wanted ? `--${name}` : `--no-${name}`
    throw new UsageError(`${flag}: ${where} cannot honour it (capability publish.${name}: ${has ? CHOICE_TEXT[has] : 'not declared'}) — drop ${flag}`)
  }
}

/**
 * "5000/s" (constant) or "1000:10000:1000/10s" (stepped: from 1000/s to 10000/s, +1000/s every
 * 10 s). A constant rate has one unbounded step; the run's duration or count bounds it.
 */
export function parseRatePlan(text: string): RateStep[] {
  const stepped = /^\s*([^:]+):([^:]+):([^:/]+)\/(.+)$/.exec(text)
  if (!stepped) {
    if (/^\s*0+(\.0*)?(\/[smh])?\s*$/.test(text)) throw new UsageError(`--rate ${text} must be above zero — an open-loop run needs an arrival rate, e.g. --rate 5000/s`)
    return [{rate: parseRate(text, '--rate'), durationMs: Infinity}]
  }
  const [from, to, step] = [stepped[1]!, stepped[2]!, stepped[3]!].map((part) => parseRate(part, '--rate'))
  const every = parseDuration(stepped[4]!, '--rate step length')
  if (every <= 0) throw new UsageError(`--rate ${text}: the step length must be above zero, e.g. 1000:10000:1000/10s`)
  const steps: RateStep[] = []
  const up = to! >= from!
  for (let rate = from!; up ? rate <= to! + 1e-9 : rate >= to! - 1e-9; rate += up ? step! : -step!) {
    steps.push({rate, durationMs: every})
    if (steps.length > 10_000) throw new UsageError(`--rate ${text} makes over 10000 steps — use a bigger step`)
  }
  return steps
}

/** Intended send time (ms from the run's start) of message i under an open-loop schedule. */
export class Schedule {
  private step = 0
  private stepStartMs = 0
  private stepStartIndex = 0

  constructor(private readonly steps: RateStep[]) {}

  /** Monotonic calls only (i never decreases), which keeps this O(1) amortised. */
  at(i: number): number {
    for (;;) {
      const s = this.steps[this.step]!
      const inStep = Number.isFinite(s.durationMs) ? Math.floor((s.durationMs * s.rate) / 1000) : Infinity
      if (i - this.stepStartIndex < inStep || this.step === this.steps.length - 1) {
        return this.stepStartMs + ((i - this.stepStartIndex) * 1000) / s.rate
      }
      this.stepStartIndex += inStep
      this.stepStartMs += s.durationMs
      this.step++
    }
  }

  /** Total messages the schedule sends in `durationMs`. */
  countWithin(durationMs: number): number {
    let n = 0
    let t = 0
    for (const s of this.steps) {
      const len = Math.min(s.durationMs, durationMs - t)
      if (len <= 0) break
      n += Math.floor((len * s.rate) / 1000)
      t += len
    }
    return n
  }
}

export function describePlan(plan: BenchPlan): string {
  const warmup = plan.warmupMs > 0 ? ` after a ${formatDuration(plan.warmupMs)} warm-up` : ''
  const bound = (plan.count !== undefined ? `${plan.count} messages` : formatDuration(plan.durationMs)) + warmup
  const rate = plan.steps
    ? plan.steps.length === 1
      ? `open loop at ${plan.steps[0]!.rate}/s`
      : `open loop ${plan.steps[0]!.rate}/s → ${plan.steps.at(-1)!.rate}/s in ${plan.steps.length} steps`
    : 'closed loop'
  const publish = [plan.persistent === undefined ? '' : plan.persistent ? ', persistent' : ', not persistent', plan.confirms === undefined ? '' : plan.confirms ? ', confirms' : ', no confirms'].join('')
  return `${rate}, ${bound}, ${plan.producers} producer(s), ${plan.consumers} consumer(s) × ${plan.concurrency}, ${plan.sizeBytes}B messages${publish}`
}
