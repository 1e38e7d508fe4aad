// In/out rates from offsets over time: Kafka keeps no rate counters, so each stats call samples the
// topic's end offsets (high watermarks summed: records in) and where the group resumes (committed
// offsets summed, the log start where it committed nothing: records out, as `waiting` counts them;
// a purge moves it too), and the rate is the change since this broker's previous sample of the
// same queue, over the seconds between them. The first sample of a queue has no rate yet (a
// one-shot `inspect` shows none, `top` and `metrics` show one from their second refresh on); a
// sample taken less than MIN_GAP_MS after the previous one repeats that one's rates.
import type {QueueStats} from '../../broker/contract.js'

export const MIN_GAP_MS = 500

interface Sample {
  at: number
  /** Σ high watermark over the partitions. */
  ends: bigint
  /** Σ where the group resumes (its committed offsets, clamped to the retained log). */
  resume: bigint
  rates?: NonNullable<QueueStats['rates']>
}

const perSec = (delta: bigint, ms: number): number => (delta <= 0n ? 0 : (Number(delta) * 1000) / ms)

export class RateMeter {
  private readonly last = new Map<string, Sample>()

  /** The rates since the previous sample of `key`; undefined on the first one. */
  sample(key: string, ends: bigint, resume: bigint, now = Date.now()): QueueStats['rates'] {
    const prev = this.last.get(key)
    if (prev && now - prev.at < MIN_GAP_MS) return prev.rates
    const next: Sample = {at: now, ends, resume}
    if (prev) {
      const ms = now - prev.at
      next.rates = {inPerSec: perSec(ends - prev.ends, ms), outPerSec: perSec(resume - prev.resume, ms)}
    }
    this.last.set(key, next)
    return next.rates
  }
}

const meters = new WeakMap<object, RateMeter>()

/** One meter per broker (its context): rates are over this process's own samples. */
export function meterOf(owner: object): RateMeter {
  let m = meters.get(owner)
  if (!m) meters.set(owner, (m = new RateMeter()))
  return m
}
