// Parsers for durations (5s, 250ms, 1m30s), sizes (128B, 1KiB) and rates (5000/s): strict, with
// errors that show a valid example.
import {UsageError} from './errors.js'

const DURATION_UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Node's longest timer (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** The largest count a flag takes: anything more is a typo, and would overflow a timer or an allocation. */
export const MAX_COUNT = 2 ** 31 - 1

/**
 * Milliseconds from "250ms", "5s", "1m30s", "2h" or a bare number of ms. Refused above
 * MAX_TIMER_MS (it would feed a timer) unless `timer: false` (a threshold, never waited on).
 */
export function parseDuration(text: string, what = 'duration', options: {timer?: boolean} = {}): number {
  const trimmed = String(text).trim()
  if (/^-/.test(trimmed)) throw new UsageError(`${what} "${text}" is negative — give a positive duration such as 5s`)
  let ms: number
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed)
  else {
    const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)]
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
      throw new UsageError(`${what} "${text}" is not a duration — write it like 250ms, 5s, 1m30s or 2h`)
    }
    ms = Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0))
  }
  const max = options.timer === false ? Number.MAX_SAFE_INTEGER : MAX_TIMER_MS
  if (!(ms <= max)) {
    throw new UsageError(`${what} "${text}" is too long — the most is ${options.timer === false ? 'about 285,000 years' : '24d20h31m23s (2147483647ms, the longest timer)'}`)
  }
  return ms
}

/** A number parsed from a flag: a whole number from `min` to MAX_COUNT, or a UsageError naming the flag. */
export function checkCount(value: number, what: string, min = 0): number {
  if (!Number.isSafeInteger(value) || value < Math.max(min, -MAX_COUNT) || value > MAX_COUNT) {
    const range = min <= -MAX_COUNT ? `from -${MAX_COUNT} to ${MAX_COUNT}` : `from ${min} to ${MAX_COUNT}`
    throw new UsageError(`${what} ${String(value)} is out of range — give a whole number ${range}`)
  }
  return value
}

const SIZE_UNITS: Record<string, number> = {b: 1, kb: 1000, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2}

/** Bytes from "128B", "4KiB", "1MB" or a bare number of bytes. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(String(text).trim())
  const unit = m?.[2]?.toLowerCase() || 'b'
  if (!m || !(unit in SIZE_UNITS)) throw new UsageError(`${what} "${text}" is not a size — write it like 128B, 4KiB or 1MiB`)
  return Math.round(Number(m[1]) * SIZE_UNITS[unit]!)
}

/** Per-second rate from "5000/s", "300/m", "5000". Must be > 0. */
export function parseRate(text: string, what = 'rate'): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(String(text).trim())
  if (!m) throw new UsageError(`${what} "${text}" is not a rate — write it like 5000/s or 300/m`)
  const perSecond = Number(m[1]) / ({s: 1, m: 60, h: 3600}[m[2] ?? 's'] ?? 1)
  if (!(perSecond > 0)) throw new UsageError(`${what} "${text}" must be above zero`)
  return perSecond
}

/** "1.2s", "350ms", "3m12s", "2h05m", "4d03h": short, for tables. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-'
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
  const s = Math.floor(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}

/** "12,345" (rounded, en-US grouping) without toLocaleString: its first call builds an ICU formatter, ~15 ms of CPU. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '∞' : '-∞'
  return String(Math.round(n)).replace(/\B(?=(\d{3})+$)/g, ',')
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)}KiB`
  return `${(n / 1024 ** 2).toFixed(1)}MiB`
}
