// Latency in HDR histograms (hdr-histogram-js, its pure-JS build: no WebAssembly start-up), recorded
// in microseconds, reported in ms; encoded with the standard compressed base64 form so results
// from several agents or runs can be merged exactly.
// Its modules one by one: the package's index also loads its log reader and writer, whose
// Intl.NumberFormat alone costs ~10 ms of CPU at every bench's start.
import {build} from 'hdr-histogram-js/dist/HistogramBuilder.js'
import {decodeFromCompressedBase64, encodeIntoCompressedBase64} from 'hdr-histogram-js/dist/encoding.js'
import type {JsHistogram} from 'hdr-histogram-js/dist/JsHistogram.js'

export type Histogram = ReturnType<typeof build>
export {encodeIntoCompressedBase64}

export interface LatencySummary {
  unit: 'ms'
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  /** HdrHistogram compressed base64 (values in µs). */
  histogram: string
}

export function newHistogram(): Histogram {
  return build({bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false})
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = decodeFromCompressedBase64(encoded, 32, false)
  const h = newHistogram()
  h.add(decoded)
  return h
}

const ms = (us: number) => Math.round(us) / 1000

export function summarize(h: Histogram): LatencySummary {
  const empty = h.totalCount === 0
  return {
    unit: 'ms',
    count: h.totalCount,
    min: empty ? 0 : ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    mean: empty ? 0 : ms(meanOf(h)),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    histogram: encodeIntoCompressedBase64(h),
  }
}

/**
 * h.mean, by index over the counts: the library's recorded-values iterator allocates and calls
 * through several layers per bucket, ~15 ms of CPU a summary. Same sum, same order, same result.
 */
export function meanOf(histogram: Histogram): number {
  const h = histogram as JsHistogram
  if (typeof h.getCountAtIndex !== 'function') return histogram.mean
  if (h.totalCount === 0) return 0
  let total = 0
  for (let i = 0, n = h.countsArrayLength; i < n; i++) {
    const count = h.getCountAtIndex(i)
    if (count !== 0) total += h.medianEquivalentValue(h.valueFromIndex(i)) * count
  }
  return total / h.totalCount
}

const DIRECT_US = 1 << 16 // latencies under 65.5 ms: counted in a flat array, exact to the µs

/**
 * Records latencies (µs) with an array increment on the hot path; flushes into an HDR histogram
 * with recordValueWithCount. The result is identical to recording each value (HDR buckets them
 * the same way); only the per-message cost of HDR's bucket arithmetic is saved.
 */
export class LatencyRecorder {
  private readonly direct = new Uint32Array(DIRECT_US)
  private readonly histogram = newHistogram()

  record(us: number): void {
    if (us < DIRECT_US) this.direct[us < 1 ? 1 : us]!++
    else this.histogram.recordValue(us)
  }

  /** Moves the counted values into the histogram and returns it (the recorder stays usable). */
  flush(): Histogram {
    const direct = this.direct
    for (let us = 1; us < DIRECT_US; us++) {
      const n = direct[us]!
      if (n !== 0) {
        this.histogram.recordValueWithCount(us, n)
        direct[us] = 0
      }
    }
    return this.histogram
  }
}
