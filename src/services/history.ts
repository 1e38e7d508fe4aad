// Counts by state over the last minutes, one ring of samples a queue: the sparklines and the
// "growing backlog" colour are drawn from it. Plain TypeScript so the poller and tests share it.
import type {MessageState, QueueStats} from '../broker/contract.js'

export interface Sample {
  at: number
  counts: QueueStats['counts']
}

/** Samples kept a queue: 3 minutes at the default 1 s interval. */
export const HISTORY_SAMPLES = 180

export class QueueHistory {
  private readonly samples = new Map<string, Sample[]>()

  constructor(private readonly capacity = HISTORY_SAMPLES) {}

  record(stats: readonly QueueStats[], at: number): void {
    const seen = new Set<string>()
    for (const s of stats) {
      seen.add(s.name)
      let ring = this.samples.get(s.name)
      if (!ring) this.samples.set(s.name, (ring = []))
      ring.push({at, counts: s.counts})
      if (ring.length > this.capacity) ring.splice(0, ring.length - this.capacity)
    }
    // a deleted queue takes its history with it
    for (const name of this.samples.keys()) if (!seen.has(name)) this.samples.delete(name)
  }

  series(queue: string, state: MessageState = 'waiting'): number[] {
    return (this.samples.get(queue) ?? []).map((s) => s.counts[state] ?? 0)
  }

  /** Change of the waiting count over the last `window` samples (positive: the backlog grows). */
  growth(queue: string, window = 10, state: MessageState = 'waiting'): number {
    // read off the ring: no copy of the whole series for two of its values
    const ring = this.samples.get(queue)
    if (!ring || ring.length < 2) return 0
    const from = ring[Math.max(0, ring.length - 1 - window)]!.counts[state] ?? 0
    return (ring[ring.length - 1]!.counts[state] ?? 0) - from
  }
}

const BARS = '▁▂▃▄▅▆▇█'

/** The last values as `width` bars, each the max of its bucket, scaled from 0 to the max shown. */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return ''
  if (values.length === 0) return ' '.repeat(width)
  const perBar = Math.max(1, Math.ceil(values.length / width))
  const buckets: number[] = []
  for (let end = values.length; end > 0 && buckets.length < width; end -= perBar) {
    let max = 0
    for (let i = Math.max(0, end - perBar); i < end; i++) max = Math.max(max, values[i]!)
    buckets.unshift(max)
  }
  const top = Math.max(...buckets)
  const bars = buckets.map((v) => (top === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor((v / top) * (BARS.length - 1)))]))
  return bars.join('').padStart(width, ' ')
}
