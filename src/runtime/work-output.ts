// How `queue work` shows a Worker: NDJSON events (--json), one line per message (--echo), failure
// lines, a live status line on a TTY, and the closing summary. The Worker itself prints nothing.
import {payloadPreview, payloadText} from '../services/envelope.js'
import {ndjsonLine, paint, ProgressLine} from '../kernel/output.js'
import {safeLine, safeOutput} from '../kernel/terminal.js'
import {formatDuration} from '../kernel/units.js'
import type {DeadOutcome, WorkerSummary} from './events.js'
import type {Worker} from './worker.js'

export interface WorkOutputOptions {
  json: boolean
  echo: boolean
  out?: NodeJS.WritableStream
  err?: NodeJS.WritableStream
  color?: boolean
}

const round = (ms: number) => Math.round(ms * 100) / 100

const OUTCOME_TEXT: Record<DeadOutcome, string> = {
  'dead-lettered': 'dead-lettered',
  requeued: 'put back on the queue (--on-exhausted requeue)',
  kept: 'put back on the queue, stopping (no dead-letter route)',
  dropped: 'dropped (--on-exhausted drop)',
}

/** Subscribes the renderers to a worker; returns a function that stops the status line. */
export function attachWorkOutput(worker: Worker, options: WorkOutputOptions): () => void {
  const out = options.out ?? process.stdout
  const err = options.err ?? process.stderr
  const color = options.color ?? false
  const write = (stream: NodeJS.WritableStream, line: string) => stream.write(`${line}\n`)
  // ids, payloads, errors and reasons come from the broker or the handler: escaped for the terminal
  const s = (text: string) => safeLine(text)

  if (options.json) {
    const event = (name: string, fields: Record<string, unknown>) => write(out, ndjsonLine({event: name, queue: worker.queue, ...fields}))
    worker.on('started', (e) => event('started', {id: e.message.id, attempt: e.attempt}))
    worker.on('completed', (e) => {
      const text = options.echo ? payloadText(e.message.payload) : undefined
      const payload = !options.echo ? {} : text === undefined ? {payloadBase64: e.message.payload.toString('base64')} : {payload: text}
      event('completed', {id: e.message.id, attempt: e.attempt, ms: round(e.durationMs), ...payload})
    })
    worker.on('failed', (e) => event('failed', {id: e.message.id, attempt: e.attempt, ms: round(e.durationMs), error: e.error.message}))
    worker.on('retrying', (e) => event('retrying', {id: e.message.id, attempt: e.attempt, delayMs: e.delayMs}))
    worker.on('dead', (e) => event('dead', {id: e.message.id, attempt: e.attempt, reason: e.reason, deadLettered: e.deadLettered, outcome: e.outcome}))
    worker.on('drained', () => event('drained', {}))
    worker.on('error', (e) => event('error', {error: e.error.message}))
    worker.on('reconnecting', (e) => event('reconnecting', {error: e.error.message}))
    worker.on('reconnected', (e) => event('reconnected', {downMs: Math.round(e.downMs)}))
    return () => {}
  }

  const progress = new ProgressLine(err as NodeJS.WriteStream)
  const above = (stream: NodeJS.WritableStream, line: string) => {
    progress.done()
    write(stream, safeOutput(line))
  }
  if (options.echo) {
    worker.on('completed', (e) => above(out, `${s(e.message.id)}  attempt ${e.attempt}  ${s(payloadPreview(e.message, 100))}`))
  }
  worker.on('retrying', (e) =>
    above(err, paint(`retry  ${s(e.message.id)}  attempt ${e.attempt} failed → again in ${formatDuration(e.delayMs)}`, 'yellow', color)),
  )
  worker.on('failed', (e) => {
    if (!progress.enabled) above(err, `failed ${s(e.message.id)}  attempt ${e.attempt}: ${s(e.error.message)}`)
  })
  worker.on('dead', (e) => above(err, paint(`dead   ${s(e.message.id)}  ${OUTCOME_TEXT[e.outcome]}: ${s(e.reason)}`, 'red', color)))
  worker.on('error', (e) => above(err, paint(`error: ${s(e.error.message)}`, 'red', color)))
  worker.on('reconnecting', (e) => above(err, paint(`${s(e.error.message)} — waiting for it to come back (up to --reconnect-timeout)`, 'yellow', color)))
  worker.on('reconnected', (e) => above(err, paint(`back: consuming ${worker.queue} again after ${formatDuration(e.downMs)}`, 'green', color)))
  if (!progress.enabled) return () => {}

  let lastDone = 0
  let lastAt = Date.now()
  let rate = 0
  const timer = setInterval(() => {
    const c = worker.counts
    const t = Date.now()
    rate = ((c.completed + c.failed - lastDone) * 1000) / Math.max(1, t - lastAt)
    lastDone = c.completed + c.failed
    lastAt = t
    progress.update(
      `${worker.queue}  ${worker.runningJobs} running  ${c.completed} done  ${c.failed} failed  ${c.retried} retried  ${c.dead} dead  ${Math.round(rate)}/s`,
      true,
    )
  }, 250)
  timer.unref()
  return () => {
    clearInterval(timer)
    progress.done()
  }
}

export function summaryLine(queue: string, s: WorkerSummary): string {
  const why = {
    closed: 'stopped',
    'max-jobs': 'reached --max-jobs',
    empty: 'queue empty',
    error: 'stopped on an error',
    forced: 'forced stop',
    exhausted: 'stopped: a message ran out of attempts with no dead-letter route',
  }[s.reason]
  const returned = s.returned > 0 ? `, ${s.returned} handed back` : ''
  const kept = s.kept > 0 ? `, ${s.kept} out of attempts kept on the queue` : ''
  const dropped = s.dropped > 0 ? `, ${s.dropped} dropped` : ''
  return `${queue}: ${s.completed} completed, ${s.failed} failed (${s.retried} retried, ${s.dead} dead${kept}${dropped})${returned} in ${formatDuration(s.elapsedMs)} — ${why}`
}
