import {createReadStream} from 'node:fs'
import {access} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {CheckFailedError, UsageError} from '../kernel/errors.js'
import {importMessages} from '../services/ops/import.js'
import {checkDestination} from '../services/ops/destination.js'
import {ProgressLine} from '../kernel/output.js'
import {onInterrupt} from '../cli/signals.js'
import {queueArgDescription} from '../adapters/registry.js'

export default class Import extends BaseCommand<typeof Import> {
  static override summary = 'Put messages from an NDJSON export back on a queue (any broker).'
  static override description = `Reads the lines \`queue export\` writes (from stdin or --file) and sends name, headers, content type and the payload byte for byte; ids, states and times are the new broker's.

Lines are sent in batches as they are read: at a bad line (a truncated file) the import stops, everything before it has been sent, and the error names the line (exit 1). --all-or-nothing checks every line first and sends nothing when one is bad. Recorded in the audit log.`
  static override examples = [
    {description: 'Restore a backup', command: '<%= config.bin %> <%= command.id %> emails < emails.ndjson'},
    {description: 'Check the whole file before sending any', command: '<%= config.bin %> <%= command.id %> emails --file emails.ndjson --all-or-nothing'},
    {description: 'Copy between brokers', command: '<%= config.bin %> export emails --url amqp://… | <%= config.bin %> <%= command.id %> emails --url sqs://…'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to put the messages on.')}),
  }

  static override flags = {
    file: Flags.string({char: 'f', summary: 'Read this NDJSON file instead of stdin.'}),
    'all-or-nothing': Flags.boolean({summary: 'Check every line first; send nothing if one is bad.'}),
    create: Flags.boolean({summary: 'Create the queue when it does not exist.'}),
    'keep-priority': Flags.boolean({summary: 'Send each message with its exported priority (the queue must support priorities).'}),
    'batch-size': Flags.integer({summary: 'Messages per call to the broker.', min: 1, default: 100}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to import into')
    if (flags.file === undefined && this.io.in.isTTY) throw new UsageError('nothing to import — pipe an export to stdin or use --file FILE')
    if (flags.file !== undefined) {
      await access(flags.file).catch(() => {
        throw new UsageError(`cannot read --file ${flags.file}: no such file`)
      })
    }
    const broker = await this.openBroker()
    await checkDestination(broker, args.queue, flags.create) // exit 4 before reading a line
    const progress = new ProgressLine(this.io.err)
    const interrupt = onInterrupt({err: this.io.err})
    let report
    try {
      report = await importMessages(broker, args.queue, () => (flags.file ? createReadStream(flags.file) : this.io.in), flags.file !== undefined, {
        batchSize: flags['batch-size'],
        allOrNothing: flags['all-or-nothing'],
        priority: flags['keep-priority'],
        signal: interrupt.signal,
        onBatch: (sent) => progress.update(`imported ${sent}`),
      })
    } catch (error) {
      // a batch that failed midway: EnqueueError says how many made it; record that much
      const sent = (error as {sent?: number}).sent
      if (sent === undefined) throw error
      await this.audit({command: 'import', url: broker.displayUrl, queue: args.queue, counts: {imported: sent}, details: {outcome: 'error'}})
      this.fail(error as Error, {queue: args.queue, imported: sent})
    } finally {
      progress.done()
      interrupt.dispose()
    }
    if (report.imported > 0) {
      await this.audit({command: 'import', url: broker.displayUrl, queue: args.queue, counts: {imported: report.imported}, details: {file: flags.file, badLine: report.badLine?.line}})
    }
    const result = {queue: args.queue, imported: report.imported, badLine: report.badLine?.line}
    if (report.badLine) {
      const tail = flags['all-or-nothing']
        ? 'nothing was imported (--all-or-nothing)'
        : `${report.imported} message${report.imported === 1 ? '' : 's'} before it were imported, nothing from it on — fix the line and import the rest (tail -n +${report.badLine.line})`
      this.fail(new CheckFailedError(`${report.badLine.message}; ${tail}`), result)
    }
    this.log(`imported ${report.imported} message${report.imported === 1 ? '' : 's'} into "${args.queue}"`)
    return result
  }
}
