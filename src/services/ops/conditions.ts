// `queue wait --until`: conditions over a queue's stats. "empty", or comparisons such as
// "depth<100", "dead==0", "inflight<=5", "age<5m", joined with "and" / "&&".
import {MESSAGE_STATES, type MessageState, type QueueStats} from '../../broker/contract.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {deadCount, depthOf} from '../inspect.js'
import {parseState} from '../states.js'
import {formatDuration, parseDuration} from '../../kernel/units.js'

type Op = '<' | '<=' | '>' | '>=' | '==' | '!='
/** depth = waiting + delayed + paused; dead = dead + retry; total = everything not completed; age = oldest waiting (ms). */
type Metric = MessageState | 'depth' | 'total' | 'age' | 'consumers'

export interface Comparison {
  metric: Metric
  op: Op
  value: number
  text: string
}

export interface Condition {
  text: string
  all: Comparison[]
}

export interface Evaluation {
  holds: boolean
  /** "depth 120 (want <100)", for progress lines and the timeout message. */
  observed: string
}

const METRICS = ['depth', 'total', 'age', 'consumers', ...MESSAGE_STATES]
const COMPARISON = /^([a-z-]+)\s*(<=|>=|==|!=|<|>|=)\s*(\S+)$/i

export function parseCondition(text: string): Condition {
  const parts = text.split(/\s+and\s+|\s*&&\s*/i).map((p) => p.trim()).filter(Boolean)
  if (parts.length === 0) throw new UsageError(`--until is empty — use empty, "depth<100", "dead==0" or "age<5m"`)
  return {text, all: parts.flatMap(parseOne)}
}

function parseOne(part: string): Comparison[] {
  if (/^empty$/i.test(part)) {
    return [{metric: 'total', op: '==', value: 0, text: 'empty'}]
  }
  const m = COMPARISON.exec(part)
  if (!m) {
    throw new UsageError(`--until "${part}" is not a condition — use empty, or METRIC OP VALUE such as "depth<100", "dead==0", "age<5m" (metrics: ${METRICS.join(', ')})`)
  }
  const word = m[1]!.toLowerCase()
  const metric: Metric = word === 'depth' || word === 'total' || word === 'age' || word === 'consumers' ? word : word === 'workers' ? 'consumers' : parseMetricState(word, part)
  const op = (m[2] === '=' ? '==' : m[2]) as Op
  const value = metric === 'age' ? parseDuration(m[3]!, `--until ${part}: the age`, {timer: false}) : Number(m[3])
  if (!Number.isFinite(value) || value < 0 || (metric !== 'age' && !Number.isInteger(value))) {
    throw new UsageError(`--until "${part}": "${m[3]}" is not a count — give a whole number such as 0 or 100`)
  }
  return [{metric, op, value, text: part}]
}

function parseMetricState(word: string, part: string): MessageState {
  try {
    return parseState(word)
  } catch {
    throw new UsageError(`--until "${part}": unknown metric "${word}" — use one of: ${METRICS.join(', ')} (or empty)`)
  }
}

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '<': return a < b
    case '<=': return a <= b
    case '>': return a > b
    case '>=': return a >= b
    case '==': return a === b
    case '!=': return a !== b
  }
}

/** The value of a metric, or undefined when the broker does not report it. */
export function metricValue(stats: QueueStats, metric: Metric): number | undefined {
  switch (metric) {
    case 'depth': return depthOf(stats)
    case 'total':
      return (['waiting', 'inflight', 'delayed', 'retry', 'paused'] as const).reduce((sum, s) => sum + (stats.counts[s] ?? 0), 0)
    case 'age': return depthOf(stats) === 0 ? 0 : stats.oldestAgeMs
    case 'consumers': return stats.consumers
    case 'dead': return stats.counts.dead === undefined && stats.counts.retry === undefined ? undefined : deadCount(stats)
    default: return stats.counts[metric]
  }
}

/** Refuses, before waiting at all, a condition the broker can never answer. */
export function checkAnswerable(condition: Condition, stats: QueueStats, transport: string): void {
  for (const c of condition.all) {
    if (c.metric === 'depth' || c.metric === 'total') continue
    if (c.metric === 'age' && depthOf(stats) === 0) continue
    if (c.metric === 'consumers' && stats.consumers === undefined) {
      throw new NotSupportedError(`${transport} does not know who consumes queue "${stats.name}" (it keeps no registry of consumers) — wait on depth or inflight instead`)
    }
    if (metricValue(stats, c.metric) === undefined) {
      const known = Object.keys(stats.counts).join(', ')
      throw new NotSupportedError(`${transport} does not report "${c.metric}" for queue "${stats.name}" (it reports: ${known || 'nothing'}${stats.oldestAgeMs !== undefined ? ', age' : ''}) — wait on depth or one of those`)
    }
  }
}

export function evaluate(condition: Condition, stats: QueueStats): Evaluation {
  let holds = true
  const observed: string[] = []
  for (const c of condition.all) {
    const value = metricValue(stats, c.metric)
    const ok = value !== undefined && compare(value, c.op, c.value)
    holds &&= ok
    const shown = value === undefined ? 'unknown' : c.metric === 'age' ? formatDuration(value) : String(value)
    const want = c.metric === 'age' ? formatDuration(c.value) : String(c.value)
    observed.push(`${c.metric === 'total' ? 'messages' : c.metric} ${shown}${ok ? '' : ` (want ${c.op === '==' ? '' : c.op}${want})`}`)
  }
  return {holds, observed: observed.join(', ')}
}
