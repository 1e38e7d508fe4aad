import {Args, Flags} from '@oclif/core'
import {BaseCommand, stoppedBy} from '../cli/base-command.js'
import {InterruptedError, UsageError} from '../kernel/errors.js'
import {writeAudit} from '../services/ops/audit.js'
import {confirmDestructive} from '../services/ops/confirm.js'
import {exportMessages} from '../services/ops/export.js'
import {onInterrupt} from '../cli/signals.js'
import {parseState} from '../services/states.js'
import {parseDuration} from '../kernel/units.js'
import {safeLine} from '../kernel/terminal.js'

export default class Export extends BaseCommand<typeof Export> {
  static override summary = 'Write the messages of a queue as NDJSON (a backup, or a move between brokers with import).'
  static override description = `One message a line: id, name, headers, contentType and the payload byte for byte (payload as text when it is UTF-8, payloadBase64 when not), plus state, attempts and times. \`queue import\` reads it back on any broker.

By default nothing is removed: the messages are peeked (AMQP requeues them, flagged redelivered; SQS counts a receive). --consume drains the queue instead, each batch acknowledged only after its lines were written; it asks first on a terminal and needs --yes elsewhere.`
  static override examples = [
    {description: 'Back up a queue', command: '<%= config.bin %> <%= command.id %> emails > emails.ndjson'},
    {description: 'Drain the dead letters into a file', command: '<%= config.bin %> <%= command.id %> orders --state dead --consume --yes > dead.ndjson'},
    {description: 'Copy a RabbitMQ queue to SQS', command: '<%= config.bin %> <%= command.id %> emails --url amqp://… | queue import emails --url sqs://…'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: 'Queue to export (on Redis: kind:name).'}),
  }

  static override flags = {
    state: Flags.string({summary: 'Which messages: waiting (default), dead (failed), delayed, completed…'}),
    limit: Flags.integer({summary: 'Export at most N messages.', min: 1}),
    consume: Flags.boolean({summary: 'Remove the messages as they are written (drain).'}),
    yes: Flags.boolean({char: 'y', summary: 'With --consume: do not ask (needed when not on a terminal).'}),
    'batch-size': Flags.integer({summary: 'Messages per batch.', min: 1, default: 100}),
    idle: Flags.string({summary: 'With --consume: stop when nothing arrived for this long.', default: '3s'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to export')
    if (this.jsonEnabled()) throw new UsageError('export writes NDJSON already — drop --json')
    const state = flags.state === undefined ? undefined : parseState(flags.state)
    const idleMs = parseDuration(flags.idle, '--idle')
    const broker = await this.openBroker()
    if (flags.consume) {
      const stats = await broker.stats(args.queue)
      const count = stats.counts[state ?? 'waiting']
      const go = await confirmDestructive({
        yes: flags.yes,
        question: `remove ${count ?? 'all'} ${state ?? 'waiting'} messages of "${args.queue}" on ${broker.displayUrl} as they are exported?`,
        retryHint: `queue export ${args.queue} --consume`,
      })
      if (!go) return undefined
    }
    const interrupt = onInterrupt()
    let report
    try {
      report = await exportMessages(broker, args.queue, writeStdout, {state, limit: flags.limit, consume: flags.consume, batchSize: flags['batch-size'], idleMs, signal: interrupt.signal})
    } finally {
      interrupt.dispose()
    }
    if (flags.consume) {
      await writeAudit({
        command: 'export',
        url: broker.displayUrl,
        queue: args.queue,
        counts: {exported: report.exported, failed: report.drain?.failed ?? 0},
        details: {consume: true, state: state ?? 'waiting', limit: flags.limit, outcome: report.drain?.stoppedBy},
      })
    } else {
      if (report.caveat) process.stderr.write(`${safeLine(report.caveat)}\n`)
    }
    process.stderr.write(`exported ${report.exported} message${report.exported === 1 ? '' : 's'} from "${safeLine(args.queue)}"${flags.consume ? ' (removed from the queue)' : ''}\n`)
    const stopped = report.drain
    if (stopped?.stoppedBy === 'interrupted') throw new InterruptedError(`interrupted after exporting ${report.exported} messages`)
    if (stopped?.error) throw stoppedBy(stopped.error, `the export stopped: ${stopped.error.message} — the messages not written stay on the queue`)
    return undefined
  }
}

/** Resolves once stdout took the lines (so --consume acks only what was handed to the OS). */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()))
  })
}
