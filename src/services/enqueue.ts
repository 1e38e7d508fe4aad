// Sending many messages: options checked against what the broker can do before anything is sent,
// then batches, several in flight where the adapter keeps their order, stopping cleanly between
// batches when interrupted or when one fails.
import type {Broker, Capabilities, EnqueueOptions, OutgoingMessage} from '../broker/contract.js'
import {EnqueueError, InterruptedError, NotSupportedError, UsageError, isUserError} from '../kernel/errors.js'
import {formatDuration} from '../kernel/units.js'

export type MessageTemplate = Omit<OutgoingMessage, 'payload'>

/** Refuses options the broker cannot honour, naming the broker and what would work instead. */
export function checkOptions(broker: Broker, caps: Capabilities, template: MessageTemplate): void {
  if (template.delayMs !== undefined && template.delayMs > 0) {
    if (!caps.delay) {
      throw new NotSupportedError(`${broker.displayUrl} cannot delay messages — ${caps.advice?.delay ?? 'send without --delay, or schedule the send yourself'}`)
    }
    if (template.delayMs > caps.delay.maxMs) {
      throw new NotSupportedError(
        `--delay ${formatDuration(template.delayMs)} is over ${broker.transport}'s maximum of ${formatDuration(caps.delay.maxMs)} — ${caps.advice?.delay ?? 'use a shorter delay, or hold the message elsewhere and send it later'}`,
      )
    }
  }
  if (template.priority !== undefined) {
    if (!caps.priority) throw new NotSupportedError(`${broker.displayUrl} has no message priorities here — ${caps.advice?.priority ?? 'send without --priority'}`)
    if (template.priority < caps.priority.min || template.priority > caps.priority.max) {
      throw new UsageError(`--priority ${template.priority} is out of range for ${broker.transport}: ${caps.priority.min}–${caps.priority.max}`)
    }
  }
  if (template.dedupId !== undefined && !caps.dedup) throw new NotSupportedError(`${broker.displayUrl} has no deduplication ids — drop --dedup-id`)
  if (template.groupId !== undefined && !caps.groups) throw new NotSupportedError(`${broker.displayUrl} has no message groups — drop --group-id`)
}

export interface SendReport {
  ids: string[]
  sent: number
}

export interface SendOptions {
  batchSize: number
  total?: number
  flavor?: string
  signal?: AbortSignal
  /** false: the caller counts messages and never reads their ids (import), so adapters may skip making them (EnqueueOptions.ids); onBatch's ids may then be empty. */
  ids?: boolean
  /** Each confirmed batch's ids, in input order, with the running total confirmed. */
  onBatch?: (ids: string[], sent: number) => void
  /** The input line of the nth message (1-based), where lines and messages differ (import): failures name lines. */
  lineOf?: (ordinal: number) => number
}

/** Batches kept in flight at once where the adapter says its writes keep their order (EnqueueOptions.onWritten)… */
export const BATCHES_IN_FLIGHT = 4
/** …and messages: a batch of 500 (enqueue's) already fills the pipe, four of them measured slower on NATS (more CPU) */
export const MESSAGES_IN_FLIGHT = 1000

/**
 * Sends messages in batches of `batchSize`: the next batch goes out once the adapter has written
 * the last (onWritten), up to BATCHES_IN_FLIGHT (and MESSAGES_IN_FLIGHT) awaiting their confirms,
 * else once it is confirmed.
 * On interruption or a failure no batch is started and nothing more is read; the batches in flight
 * are waited for, so the count is exactly what was confirmed: InterruptedError, or an EnqueueError
 * naming the first failure and the messages that were not sent.
 */
export async function sendInBatches(
  broker: Broker,
  queue: string,
  messages: Iterable<OutgoingMessage> | AsyncIterable<readonly OutgoingMessage[]>,
  options: SendOptions,
): Promise<SendReport> {
  const run = new BatchSend(broker, queue, options)
  let batch: OutgoingMessage[] = []
  try {
    // walked without a promise a message: a sync iterable, or an async one a chunk at a time
    if (Symbol.iterator in messages) {
      for (const message of messages) {
        batch.push(message)
        if (batch.length >= options.batchSize && !(await run.send(batch.splice(0)))) break
      }
    } else {
      chunks: for await (const chunk of messages) {
        for (const message of chunk) {
          batch.push(message)
          if (batch.length >= options.batchSize && !(await run.send(batch.splice(0)))) break chunks
        }
      }
    }
    if (!run.stopped && (batch.length === 0 || (await run.send(batch)))) run.allSent = true
  } catch (error) {
    // the input failed: what is in flight is still counted, and a failed batch is told first
    await run.settled()
    run.throwIfFailed()
    throw error
  }
  await run.settled()
  run.throwIfFailed()
  return {ids: run.ids, sent: run.sent}
}

interface Outcome {
  start: number
  length: number
  ids?: string[]
  error?: unknown
}

/** The batches of one sendInBatches: in flight, settled, and told in input order. */
class BatchSend {
  readonly ids: string[] = []
  sent = 0
  private next = 0
  private readonly outcomes: Outcome[] = []
  private told = 0
  private readonly inFlight = new Set<Promise<void>>()
  private messagesInFlight = 0
  private failed: Outcome | undefined
  private interrupted = false
  private callbackError: {error: unknown} | undefined
  /** Every message of the input was handed to a batch. */
  allSent = false

  constructor(
    private readonly broker: Broker,
    private readonly queue: string,
    private readonly options: SendOptions,
  ) {}

  get stopped(): boolean {
    return this.failed !== undefined || this.interrupted
  }

  /** Starts a batch; resolves when the next may start, with false when this one was not started or nothing more is to be sent. */
  async send(batch: OutgoingMessage[]): Promise<boolean> {
    if (this.options.signal?.aborted) this.interrupted = true
    if (this.stopped) return false
    const outcome: Outcome = {start: this.next, length: batch.length}
    this.next += batch.length
    this.outcomes.push(outcome)
    let written!: () => void
    const writtenOrDone = new Promise<void>((resolve) => (written = resolve))
    const options: EnqueueOptions = {onWritten: written}
    if (this.options.flavor) options.flavor = this.options.flavor
    if (this.options.ids === false) options.ids = false
    this.messagesInFlight += batch.length
    const done = this.broker.enqueue(this.queue, batch, options).then(
      (ids) => this.settle(outcome, {ids}),
      (error: unknown) => this.settle(outcome, {error}),
    )
    this.inFlight.add(done)
    void done.then(() => {
      this.inFlight.delete(done)
      this.messagesInFlight -= batch.length
      written()
    })
    await writtenOrDone
    while (this.inFlight.size >= BATCHES_IN_FLIGHT || this.messagesInFlight >= MESSAGES_IN_FLIGHT) await Promise.race(this.inFlight)
    return !this.stopped
  }

  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight)
  }

  private settle(outcome: Outcome, result: {ids?: string[]; error?: unknown}): void {
    if (result.ids) outcome.ids = result.ids
    else {
      outcome.error = result.error
      if (!this.failed || outcome.start < this.failed.start) this.failed = outcome
    }
    // told in input order: a batch confirmed before the one ahead of it waits for it
    while (this.told < this.outcomes.length) {
      const o = this.outcomes[this.told]!
      if (!o.ids && o.error === undefined) break
      this.told++
      if (!o.ids) continue
      // without ids an adapter may return none: a confirmed batch counts all its messages
      this.sent += this.options.ids === false ? o.length : o.ids.length
      if (this.options.ids !== false) for (const id of o.ids) this.ids.push(id)
      try {
        this.options.onBatch?.(o.ids, this.sent)
      } catch (error) {
        // the caller's own failure (writing the ids): thrown once the batches in flight are settled
        this.callbackError ??= {error}
        this.interrupted = true
      }
    }
  }

  private get of(): string {
    return this.options.total === undefined ? '' : ` of ${this.options.total}`
  }

  throwIfFailed(): void {
    if (this.callbackError) throw this.callbackError.error
    const failed = this.failed
    if (!failed) {
      if (this.interrupted) throw new InterruptedError(`interrupted: ${this.sent}${this.of} messages were sent to "${this.queue}", the rest were not`)
      return
    }
    const error = failed.error
    const inBatch = error instanceof EnqueueError ? error.sent : 0
    const total = this.sent + inBatch
    const detail = isUserError(error) ? error.message : String((error as Error)?.message ?? error)
    // adapters count within the call; say where that call started in the whole input
    const reason = failed.start > 0 ? `${detail} (in the batch of messages ${failed.start + 1}–${failed.start + failed.length})` : detail
    if (error instanceof EnqueueError || !isUserError(error) || total > 0) {
      // with none sent, "0 … were sent" says it all: no list of what was not
      const notSent = total > 0 ? `; ${this.notSent(failed)}` : ''
      throw new EnqueueError(`${total}${this.of} messages were sent to "${this.queue}" before it failed: ${reason}${notSent}`, total, isUserError(error) ? error.exitCode : 3)
    }
    throw error
  }

  /** The messages (or lines) not confirmed, so that a re-run of exactly those is safe. */
  private notSent(failed: Outcome): string {
    const ranges: [number, number][] = []
    const add = (from: number, to: number) => {
      const last = ranges.at(-1)
      if (last && last[1] + 1 >= from) last[1] = Math.max(last[1], to)
      else ranges.push([from, to])
    }
    const error = failed.error
    const pending = error instanceof EnqueueError ? (error.pending ?? Array.from({length: failed.length - error.sent}, (_, k) => error.sent + k)) : undefined
    for (const o of this.outcomes) {
      if (o.ids) continue
      if (o === failed && pending) for (const k of pending) add(o.start + k + 1, o.start + k + 1)
      else add(o.start + 1, o.start + o.length)
    }
    const {total, lineOf} = this.options
    if (!lineOf && total !== undefined && this.next < total) add(this.next + 1, total)
    const at = (n: number) => (lineOf ? lineOf(n) : n)
    const parts = ranges.map(([a, b]) => (a === b ? `${at(a)}` : `${at(a)}–${at(b)}`))
    const tail = this.allSent || (!lineOf && total !== undefined) ? [] : [this.next === 0 ? 'all' : `every one after ${lineOf ? `line ${at(this.next)}` : `message ${this.next}`}`]
    return `NOT sent: ${lineOf ? 'lines' : 'messages'} ${[...parts, ...tail].join(', ')}`
  }
}
