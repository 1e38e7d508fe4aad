import {Args, Flags} from '@oclif/core'
import {BaseCommand, stoppedBy, type OutputStream} from '../cli/base-command.js'
import {DeclinedError, InterruptedError, UsageError, UserError} from '../kernel/errors.js'
import {rerunHint} from '../cli/rerun.js'
import {confirmDestructive} from '../services/ops/confirm.js'
import {exportMessages, type LineWriter} from '../services/ops/export.js'
import {fstatSync} from 'node:fs'
import {onInterrupt, signalExitCode} from '../cli/signals.js'
import {parseState} from '../services/states.js'
import {parseDuration} from '../kernel/units.js'
import {safeLine} from '../kernel/terminal.js'
import {queueArgDescription} from '../adapters/registry.js'
import {compileWhere} from '../services/find/expression.js'
import {targetName} from '../services/target-name.js'

export default class Export extends BaseCommand<typeof Export> {
  static override dataOnStdout = true
  static override summary = 'Write the messages of a queue as NDJSON (a backup, or a move between brokers with import).'
  static override description = `One message a line: id, name, headers, contentType and the payload byte for byte (payload as text when it is UTF-8, payloadBase64 when not), plus state, attempts and times. \`queue import\` reads it back on any broker.

By default nothing is removed: the messages are peeked (AMQP requeues them, flagged redelivered; SQS counts a receive, so a queue with a redrive policy is refused unless --consume-receives). --consume drains the queue instead, each batch acknowledged only after its lines were written; it asks first on a terminal and needs --yes elsewhere.`
  static override examples = [
    {description: 'Back up a queue', command: '<%= config.bin %> <%= command.id %> emails > emails.ndjson'},
    {description: 'Drain the dead letters into a file', command: '<%= config.bin %> <%= command.id %> orders --state dead --consume --yes > dead.ndjson'},
    {description: 'Copy a RabbitMQ queue to SQS', command: '<%= config.bin %> <%= command.id %> emails --url amqp://… | queue import emails --url sqs://…'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to export.')}),
  }

  static override flags = {
    state: Flags.string({summary: 'Which messages: waiting (default), dead (failed), delayed, completed…'}),
    limit: Flags.integer({summary: 'Export at most N messages.', min: 1}),
    consume: Flags.boolean({summary: 'Remove the messages as they are written (drain).'}),
    yes: Flags.boolean({char: 'y', summary: 'With --consume: do not ask (needed when not on a terminal).'}),
    'batch-size': Flags.integer({summary: 'Messages per batch.', min: 1, default: 100}),
    idle: Flags.string({summary: 'With --consume: stop when nothing arrived for this long.', default: '3s'}),
    where: Flags.string({summary: 'Only the messages matching this CEL expression (see queue find --help); with --consume the others stay.'}),
    'consume-receives': Flags.boolean({summary: 'SQS, without --consume: peek a queue with a redrive policy anyway (each message uses up one of its maxReceiveCount receives).'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to export')
    if (this.jsonEnabled()) throw new UsageError('export writes NDJSON already — drop --json')
    const state = flags.state === undefined ? undefined : parseState(flags.state)
    const idleMs = parseDuration(flags.idle, '--idle')
    const where = flags.where === undefined ? undefined : await compileWhere(flags.where)
    const broker = await this.openBroker()
    if (flags.consume) {
      const stats = await broker.stats(args.queue)
      const count = stats.counts[state ?? 'waiting']
      const go = await confirmDestructive({input: this.io.in, output: this.io.err, 
        yes: flags.yes,
        question: `remove ${count ?? 'all'} ${state ?? 'waiting'} messages of "${args.queue}" on ${targetName(broker.displayUrl)} as they are exported?`,
        retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes']),
      })
      if (!go) this.fail(new DeclinedError('nothing exported: the answer was no'), undefined, {line: 'nothing exported'})
    }
    const interrupt = onInterrupt({err: this.io.err})
    const out = stdoutWriter(this.io.out)
    let report
    try {
      report = await exportMessages(broker, args.queue, out.write, {
        state,
        limit: flags.limit,
        consume: flags.consume,
        batchSize: flags['batch-size'],
        idleMs,
        signal: interrupt.signal,
        consumeReceives: flags['consume-receives'],
        filter: where ? (m) => where.test(m) : undefined,
        confirming: out.confirming,
      })
      if (!flags.consume) await out.finish()
    } catch (error) {
      interrupt.dispose()
      throw error
    }
    if (flags.consume) {
      // a signal until the audit line is written does not cost it
      await this.audit({
        command: 'export',
        url: broker.displayUrl,
        queue: args.queue,
        counts: {exported: report.exported, failed: report.drain?.failed ?? 0},
        details: {consume: true, state: state ?? 'waiting', where: where?.text, limit: flags.limit, outcome: report.drain?.stoppedBy, error: report.drain?.error?.message},
      })
    } else {
      if (report.caveat) this.io.err.write(`${safeLine(report.caveat)}\n`)
    }
    interrupt.dispose()
    const done = `exported ${report.exported} message${report.exported === 1 ? '' : 's'} from "${safeLine(args.queue)}"${flags.consume ? ' (removed from the queue)' : ''}`
    const stopped = report.drain
    // a failure is one line, with the count in it
    if (stopped?.error) throw stoppedBy(stopped.error, `the export stopped: ${stopped.error.message} — ${done}; the rest stays on the queue`)
    this.io.err.write(`${done}\n`)
    if (stopped?.stoppedBy === 'interrupted') throw new InterruptedError(`interrupted after exporting ${report.exported} messages`)
    return undefined
  }
}

/** How long the reader of a pipe gets to read what it was given (or to quit) before a write proves it still there. */
const READER_GRACE_MS = 250

interface StdoutWriter {
  write: LineWriter
  /** Into a pipe: confirmations come later (see LineWriter). */
  confirming: boolean
  /** Sends what is held back and settles every confirmation. */
  finish(): Promise<void>
}

/**
 * Writes to stdout, resolving once stdout took the lines (so --consume acks only what was handed
 * to the OS). A pipe's reader may quit without reading what the pipe took (`| head`): there, the
 * last newline of each write is held back and sent READER_GRACE_MS later; a batch is confirmed
 * once a write succeeded that long after it (the reader was still there), refused on EPIPE.
 */
function stdoutWriter(stdout: OutputStream): StdoutWriter {
  // a reader that went away is an error of the write in hand, not a crash
  stdout.on('error', () => {})
  const send = (text: string) =>
    new Promise<void>((resolve, reject) => {
      stdout.write(text, (error) => (error ? reject(readerGone(error)) : resolve()))
    })
  if (stdout !== process.stdout || !isPipe()) return {write: send, confirming: false, finish: async () => {}}
  let held = ''
  let timer: NodeJS.Timeout | undefined
  const waiting: {at: number; resolve: () => void; reject: (error: Error) => void}[] = []
  const settle = async (text: string) => {
    try {
      await send(text)
    } catch (error) {
      for (const w of waiting.splice(0)) w.reject(error as Error)
      throw error
    }
    const proven = Date.now() - READER_GRACE_MS
    while (waiting.length > 0 && waiting[0]!.at <= proven) waiting.shift()!.resolve()
  }
  const probe = async () => {
    timer = undefined
    const text = held
    held = ''
    await settle(text).catch(() => {})
    // a batch written less than the grace ago is still unproven: look again
    if (waiting.length > 0) timer = setTimeout(() => void probe(), READER_GRACE_MS)
  }
  return {
    confirming: true,
    write: async (lines) => {
      const text = held + lines.slice(0, -1)
      held = lines.slice(-1)
      await settle(text)
      const confirmed = new Promise<void>((resolve, reject) => waiting.push({at: Date.now(), resolve, reject}))
      confirmed.catch(() => {}) // a peek does not wait for confirmations: its refusals are no crash
      clearTimeout(timer)
      timer = setTimeout(() => void probe(), READER_GRACE_MS)
      return {confirmed}
    },
    async finish() {
      clearTimeout(timer)
      if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, READER_GRACE_MS))
      const text = held
      held = ''
      await settle(text)
    },
  }
}

function isPipe(): boolean {
  try {
    const stat = fstatSync(1)
    return stat.isFIFO() || stat.isSocket()
  } catch {
    return false
  }
}

function readerGone(error: Error): Error {
  if ((error as NodeJS.ErrnoException).code !== 'EPIPE') return error
  // as a shell reports a process that SIGPIPE ended: 128 + 13
  return new UserError('the reader of the output went away (EPIPE): the lines it may not have read stay on the queue', signalExitCode('SIGPIPE'))
}
