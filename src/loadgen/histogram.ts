// Latency in HDR histograms (hdr-histogram-js, its pure-JS build: no WebAssembly start-up), recorded
// in microseconds, reported in ms; encoded with the standard compressed base64 form so results
// from several agents or runs can be merged exactly.
import * as hdr from 'hdr-histogram-js'

export type Histogram = hdr.Histogram

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
  return hdr.build({bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false})
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false)
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
    mean: empty ? 0 : ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    histogram: hdr.encodeIntoCompressedBase64(h),
  }
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
