// Bench results for people (a table), side by side (--compare), and against thresholds (--assert).
import {UsageError} from '../kernel/errors.js'
import {colorEnabled, paint, renderTable, type Style} from '../kernel/output.js'
import {formatCount, parseDuration, parseRate} from '../kernel/units.js'
import {describePlan} from './plan.js'
import type {BenchResult} from './result.js'

interface Metric {
  key: string
  label: string
  get: (r: BenchResult) => number
  format: (n: number) => string
  /** Which way is better, for colouring ratios. */
  better: 'higher' | 'lower'
  kind: 'latency' | 'rate' | 'count'
}

const int = formatCount
const msText = (n: number) => (n >= 100 ? `${n.toFixed(0)}ms` : n >= 10 ? `${n.toFixed(1)}ms` : `${n.toFixed(3)}ms`)
const rateText = (n: number) => `${int(n)} msg/s`

const METRICS: Metric[] = [
  {key: 'sent', label: 'sent', get: (r) => r.sent, format: int, better: 'higher', kind: 'count'},
  {key: 'processed', label: 'processed', get: (r) => r.processed, format: int, better: 'higher', kind: 'count'},
  {key: 'throughput', label: 'throughput', get: (r) => r.throughput, format: rateText, better: 'higher', kind: 'rate'},
  {key: 'enqueue-rate', label: 'enqueue rate', get: (r) => r.enqueueRate, format: rateText, better: 'higher', kind: 'rate'},
  {key: 'lost', label: 'lost', get: (r) => r.lost, format: int, better: 'lower', kind: 'count'},
  {key: 'duplicates', label: 'duplicates', get: (r) => r.duplicates, format: int, better: 'lower', kind: 'count'},
  {key: 'redeliveries', label: 'redeliveries', get: (r) => r.redeliveries, format: int, better: 'lower', kind: 'count'},
  {key: 'errors', label: 'errors', get: (r) => r.errors, format: int, better: 'lower', kind: 'count'},
  {key: 'min', label: 'latency min', get: (r) => r.latency.min, format: msText, better: 'lower', kind: 'latency'},
  {key: 'p50', label: 'latency p50', get: (r) => r.latency.p50, format: msText, better: 'lower', kind: 'latency'},
  {key: 'p90', label: 'latency p90', get: (r) => r.latency.p90, format: msText, better: 'lower', kind: 'latency'},
  {key: 'p99', label: 'latency p99', get: (r) => r.latency.p99, format: msText, better: 'lower', kind: 'latency'},
  {key: 'p999', label: 'latency p99.9', get: (r) => r.latency.p999, format: msText, better: 'lower', kind: 'latency'},
  {key: 'max', label: 'latency max', get: (r) => r.latency.max, format: msText, better: 'lower', kind: 'latency'},
  {key: 'mean', label: 'latency mean', get: (r) => r.latency.mean, format: msText, better: 'lower', kind: 'latency'},
]

const ALIASES: Record<string, string> = {'p99.9': 'p999', enqueue: 'enqueue-rate', 'enqueue_rate': 'enqueue-rate', tput: 'throughput', latency: 'p99'}

function flagged(m: Metric, r: BenchResult): Style | undefined {
  if ((m.key === 'lost' || m.key === 'duplicates' || m.key === 'errors') && m.get(r) > 0) return 'red'
  return undefined
}

export function renderResult(r: BenchResult, color = colorEnabled()): string {
  const head = [
    `${paint('queue bench', 'bold', color)}  ${r.broker}  queue ${r.queue}${r.agents > 1 ? `  ${r.agents} agents` : ''}`,
    describePlan(r.plan),
  ]
  if (r.partial) head.push(paint('PARTIAL: the run was interrupted; the numbers cover only part of it', 'yellow', color))
  const table = renderTable(
    [
      {header: 'metric', value: (m: Metric) => m.label},
      {header: 'value', value: (m: Metric) => m.format(m.get(r)), align: 'right', style: (m) => flagged(m, r)},
    ],
    METRICS,
    color,
  )
  const verdict =
    r.lost === 0 && r.duplicates === 0
      ? paint(`every message accounted for: ${int(r.processed)} of ${int(r.sent)} processed exactly once`, 'green', color)
      : paint(`${int(r.lost)} lost, ${int(r.duplicates)} duplicated of ${int(r.sent)} sent`, 'red', color)
  const tail = r.lastError ? [`last error: ${r.lastError}`] : []
  return [...head, '', table, '', verdict, ...tail].join('\n')
}

export function renderComparison(a: BenchResult, b: BenchResult, names: [string, string], color = colorEnabled()): string {
  const ratio = (m: Metric) => {
    const x = m.get(a)
    const y = m.get(b)
    if (x === 0) return y === 0 ? '=' : undefined
    return `${(y / x).toFixed(2)}×`
  }
  const style = (m: Metric): Style | undefined => {
    const x = m.get(a)
    const y = m.get(b)
    if (x === 0 || Math.abs(y / x - 1) < 0.05) return undefined
    return (y > x) === (m.better === 'higher') ? 'green' : 'red'
  }
  const table = renderTable(
    [
      {header: 'metric', value: (m: Metric) => m.label},
      {header: names[0], value: (m: Metric) => m.format(m.get(a)), align: 'right'},
      {header: names[1], value: (m: Metric) => m.format(m.get(b)), align: 'right'},
      {header: 'b/a', value: ratio, align: 'right', style},
    ],
    METRICS,
    color,
  )
  const line = (n: string, r: BenchResult) => `${n}: ${r.broker} ${r.queue}, ${describePlan(r.plan)}${r.partial ? ' (PARTIAL)' : ''}`
  return [line(names[0], a), line(names[1], b), '', table].join('\n')
}

export interface Assertion {
  text: string
  metric: Metric
  op: '<' | '<=' | '>' | '>=' | '='
  value: number
}

/** "p99<50ms", "throughput>5000/s", "lost=0". */
export function parseAssertion(text: string): Assertion {
  const m = /^\s*([a-z0-9._-]+)\s*(<=|>=|==|=|<|>)\s*(.+?)\s*$/i.exec(text)
  const known = METRICS.map((x) => x.key).join(', ')
  if (!m) throw new UsageError(`--assert "${text}" is not a threshold — write it like "p99<50ms", "throughput>5000/s" or "lost=0" (metrics: ${known})`)
  const key = ALIASES[m[1]!.toLowerCase()] ?? m[1]!.toLowerCase()
  const metric = METRICS.find((x) => x.key === key)
  if (!metric) throw new UsageError(`--assert "${text}": unknown metric "${m[1]}" — use one of ${known}`)
  const raw = m[3]!
  let value: number
  if (metric.kind === 'latency') value = parseDuration(raw, `--assert "${text}"`, {timer: false})
  else if (metric.kind === 'rate') value = parseRate(raw.replace(/\s*msg/i, ''), `--assert "${text}"`)
  else {
    value = Number(raw)
    if (!Number.isFinite(value)) throw new UsageError(`--assert "${text}": "${raw}" is not a number`)
  }
  const op = m[2] === '==' ? '=' : (m[2] as Assertion['op'])
  return {text: text.trim(), metric, op, value}
}

/** The assertions a result fails, each as a line naming the measured value. */
export function failedAssertions(result: BenchResult, assertions: Assertion[]): string[] {
  const failures: string[] = []
  for (const a of assertions) {
    const v = a.metric.get(result)
    const ok = a.op === '<' ? v < a.value : a.op === '<=' ? v <= a.value : a.op === '>' ? v > a.value : a.op === '>=' ? v >= a.value : v === a.value
    if (!ok) failures.push(`${a.text} failed: ${a.metric.label} was ${a.metric.format(v)}`)
  }
  return failures
}
