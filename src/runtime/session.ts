// A whole `queue work` session on one broker, as loadgen/session.ts is for `queue bench`: check the
// queue can be worked (or make it), run the worker until it ends or is stopped (a grace period on
// the first stop, jobs handed back on the second), feed --demo's producer, print the summary, and
// turn the way it ended into an error with its exit code. The command only parses and wires signals.
import {offerCreate} from '../broker/capabilities.js'
import {capabilitiesFor, requireCapability, requireDraining} from '../broker/kit/guard.js'
import {makeQueue} from '../services/ops/lifecycle.js'
import type {Broker, Capabilities} from '../broker/contract.js'
import {CheckFailedError, NotFoundError, UsageError, UserError, isUserError} from '../kernel/errors.js'
import {ndjsonLine} from '../kernel/output.js'
import {safeLine} from '../kernel/terminal.js'
import type {WorkerSummary} from './events.js'
import {attachWorkOutput, summaryLine} from './work-output.js'
import {Worker, type JobHandler, type WorkerOptions} from './worker.js'

export interface WorkSessionInput {
  broker: Broker
  queue: string
  handler: JobHandler
  options: WorkerOptions
  /** Make the queue when it does not exist yet. */
  create: boolean
  /** Run --demo's producer alongside. */
  demo: boolean
  /** After the first stop, how long running jobs get before they are handed back. */
  graceMs: number
  output: {json: boolean; echo: boolean; color: boolean; out: NodeJS.WritableStream; err: NodeJS.WritableStream}
}

export class WorkSession {
  private worker: Worker | undefined

  constructor(private readonly input: WorkSessionInput) {}

  /** Jobs in hand now (for the line printed on Ctrl-C). */
  get runningJobs(): number {
    return this.worker?.runningJobs ?? 0
  }

  /** Works the queue until the worker finishes; `stop` starts the grace period, `force` hands jobs back. */
  async run(signals: {stop?: AbortSignal; force?: AbortSignal} = {}): Promise<WorkerSummary> {
    const {broker, queue, output} = this.input
    await this.checkQueue()
    const worker = new Worker(broker, queue, this.input.handler, this.input.options)
    this.worker = worker
    const stopOutput = attachWorkOutput(worker, output)
    const stopProducer = this.input.demo ? startDemoProducer(broker, queue) : () => {}
    let graceTimer: NodeJS.Timeout | undefined
    signals.stop?.addEventListener('abort', () => {
      stopProducer()
      void worker.close()
      graceTimer = setTimeout(() => void worker.close(true), this.input.graceMs)
      graceTimer.unref()
    })
    signals.force?.addEventListener('abort', () => void worker.close(true))
    const ending = watchEnding(worker)
    try {
      await worker.start()
      const summary = await worker.finished
      stopProducer()
      stopOutput()
      if (output.json) output.out.write(`${ndjsonLine({event: 'summary', queue, ...summary, elapsedMs: Math.round(summary.elapsedMs)})}\n`)
      else output.out.write(`${safeLine(summaryLine(queue, summary))}\n`)
      this.throwForEnding(summary, ending)
      return summary
    } finally {
      clearTimeout(graceTimer)
      stopProducer()
      stopOutput()
      await worker.close(true)
    }
  }

  /** Refuses a queue that cannot be worked as asked, before anything is taken from it. */
  private async checkQueue(): Promise<void> {
    const {broker, queue, options} = this.input
    // a queue not made yet gets what a new queue gets
    const caps = await capabilitiesFor(broker, queue)
    // before the dead-letter check: a queue its library's own workers consume says so, not "no dead-letter route"
    requireCapability(caps, 'consume', queue, broker)
    if (options.untilEmptyIdleMs) requireDraining(caps, queue, broker)
    if (options.onExhausted === 'dead-letter' && options.ack !== 'early' && !caps.deadLetter) {
      throw new UsageError(`--on-exhausted dead-letter: ${queue} on ${broker.displayUrl} has no dead-letter route (capability deadLetter: false) — give it one (a DLX, a redrive policy) or choose --on-exhausted requeue, drop or stop`)
    }
    await queueToWork(broker, queue, this.input.create, caps)
  }

  /** A worker stopped by an error, or by a message it could not dead-letter, ends the command with that. */
  private throwForEnding(summary: WorkerSummary, ending: Ending): void {
    const {broker, queue} = this.input
    if (summary.reason === 'error' && ending.failure) {
      // keep a not-found (queue deleted) as exit 4; anything else is the connection's exit 3
      const failure = ending.failure
      throw new UserError(`stopped working ${queue} on ${broker.displayUrl}: ${failure.message}`, isUserError(failure) && failure.exitCode === 4 ? 4 : 3)
    }
    if (summary.reason === 'exhausted' && ending.kept) {
      throw new CheckFailedError(
        `stopped: message ${ending.kept.id} ${ending.kept.reason.split(',')[0]} and ${queue} has no dead-letter route, so it was put back on the queue — give the queue a dead-letter route, or choose --on-exhausted requeue (keep retrying) or drop (discard)`,
      )
    }
  }
}

interface Ending {
  failure?: Error
  kept?: {id: string; reason: string}
}

/** The worker's error, and the first message kept for want of a dead-letter route. */
function watchEnding(worker: Worker): Ending {
  const ending: Ending = {}
  worker.on('error', (e) => (ending.failure = e.error))
  worker.on('dead', (e) => {
    if (e.outcome === 'kept') ending.kept ??= {id: e.message.id, reason: e.reason}
  })
  return ending
}

/** --demo: a steady trickle of fake jobs so there is something to watch. */
function startDemoProducer(broker: Broker, queue: string): () => void {
  let n = 0
  const timer = setInterval(() => {
    const batch = Array.from({length: 2}, () => ({payload: JSON.stringify({demo: ++n, to: `user${n}@example.com`}), contentType: 'application/json'}))
    void broker.enqueue(queue, batch).catch(() => {})
  }, 200)
  return () => clearInterval(timer)
}

/** A queue that does not exist is refused (a typo must leave nothing behind), or made when asked to. */
async function queueToWork(broker: Broker, queue: string, create: boolean, caps: Capabilities): Promise<void> {
  try {
    await broker.stats(queue)
  } catch (error) {
    if (!(error instanceof NotFoundError) || !create) {
      throw offerCreate(error, caps)
    }
    await makeQueue(broker, queue)
  }
}
