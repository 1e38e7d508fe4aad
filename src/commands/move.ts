import {Args, Flags} from '@oclif/core'
import type {Message} from '../broker/contract.js'
import {BaseCommand, stoppedBy} from '../cli/base-command.js'
import {queueArgDescription} from '../adapters/registry.js'
import {DeclinedError, InterruptedError, UsageError} from '../kernel/errors.js'
import {rerunHint} from '../cli/rerun.js'
import {confirmDestructive} from '../services/ops/confirm.js'
import {whereFromFlags, WHERE_EXAMPLE} from '../services/find/expression.js'
import {describeSelection, selectJobs, selectionNotes} from '../services/find/act.js'
import {safeLine} from '../kernel/terminal.js'
import {checkDestination, moveMessages, newIdsNote, sourceQueue} from '../services/ops/move.js'
import type {DrainReport} from '../services/ops/drain.js'
import {ProgressLine} from '../kernel/output.js'
import {onInterrupt} from '../cli/signals.js'
import {parseState} from '../services/states.js'
import {parseDuration} from '../kernel/units.js'
import {targetName} from '../services/target-name.js'

export default class Move extends BaseCommand<typeof Move> {
  static override summary = 'Move messages to another queue, state or broker: copied, confirmed, then removed.'
  static override description = `Each batch is sent to the destination and only removed from the source once the destination confirmed it: a crash or a broker dying midway can duplicate a batch, never lose it — run the same command again to finish the job. Moves until the source is drained (nothing arrives for --idle), --limit is reached, or Ctrl-C.

The destination must exist (exit 4 before anything is touched) unless --create. Asks first on a terminal; needs --yes elsewhere. Recorded in the audit log.`
  static override examples = [
    {description: 'Move everything from one queue to another', command: '<%= config.bin %> <%= command.id %> emails emails-backup --yes'},
    {description: 'Only the messages named "email" of tenant 42, at most 100', command: `<%= config.bin %> <%= command.id %> jobs emails --where 'name == "email" && body.tenant == 42' --limit 100 --yes`},
    {description: 'Dead letters of an SQS queue to another broker', command: '<%= config.bin %> <%= command.id %> orders orders --from-state dead --url sqs://… --to-url amqp://127.0.0.1:5672/ --yes'},
  ]

  static override args = {
    source: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to take messages from.')}),
    destination: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to put them on.')}),
  }

  static override flags = {
    'to-url': Flags.string({summary: 'Destination broker URL (default: the source broker).'}),
    'from-state': Flags.string({summary: 'Take messages in this state: waiting (default) or dead (from the dead-letter queue).', default: 'waiting'}),
    limit: Flags.integer({summary: 'Move at most N messages.', min: 1}),
    where: Flags.string({summary: `Only messages matching this CEL expression, e.g. '${WHERE_EXAMPLE}' (fields: see queue find --help).`}),
    filter: Flags.string({summary: 'Retired: the old mini-language, run as the --where it rewrites to.', hidden: true}),
    create: Flags.boolean({summary: 'Create the destination queue when it does not exist.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask: needed when not on a terminal.'}),
    'dry-run': Flags.boolean({summary: 'Show what would be moved; move nothing.'}),
    'batch-size': Flags.integer({summary: 'Messages per confirmed batch.', min: 1, default: 100}),
    idle: Flags.string({summary: 'Stop when no message arrived for this long.', default: '3s'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.source.trim() === '' || args.destination.trim() === '') throw new UsageError('a queue name is empty — give the source and the destination')
    const state = parseState(flags['from-state'])
    const where = await whereFromFlags(flags, (line) => this.io.err.write(`${safeLine(line)}\n`))
    const filter = where ? (m: Message) => where.test(m) : undefined
    const idleMs = parseDuration(flags.idle, '--idle')
    const src = await this.openBroker()
    const dst = flags['to-url'] ? await this.openBroker({url: flags['to-url']}) : src
    if ((dst === src || dst.displayUrl === src.displayUrl) && args.source === args.destination && state === 'waiting') {
      throw new UsageError(`the source and destination are the same queue "${args.source}" — name another destination (or --to-url another broker)`)
    }
    // everything that can be refused is refused here, before a message is touched
    const from = await sourceQueue(src, args.source, state)
    const available = (await src.stats(from)).counts.waiting
    if (!flags['dry-run'] || !flags.create) await checkDestination(dst, args.destination, flags.create && !flags['dry-run'])
    const n = flags.limit === undefined ? available : Math.min(flags.limit, available ?? flags.limit)
    const what = `${n ?? 'all'}${filter ? ' matching' : ''} ${state} message${n === 1 ? '' : 's'} of "${args.source}" on ${targetName(src.displayUrl)} to "${args.destination}"${dst === src ? '' : ` on ${targetName(dst.displayUrl)}`}`
    if (flags['dry-run'] && where && (await src.capabilitiesOf(from)).peek === 'exact') {
      // a peek costs nothing here: count the matches and show a sample
      const sel = await selectJobs(src, from, where, 'waiting', {limit: flags.limit})
      for (const note of selectionNotes(sel, where)) this.io.err.write(`${safeLine(note)}\n`)
      for (const line of describeSelection('move', sel, 'waiting', from, where)) this.log(line)
      return {dryRun: true, from: args.source, to: args.destination, state, where: where.text, count: sel.matches.length, sample: sel.matches.slice(0, 5).map((m) => m.id)}
    }
    if (flags['dry-run']) {
      this.log(`would move ${filter ? 'up to ' : ''}${what} (dry run: nothing moved)`)
      return {dryRun: true, from: args.source, to: args.destination, state, count: n}
    }
    const go = await confirmDestructive({input: this.io.in, output: this.io.err, yes: flags.yes, question: `move ${what}?`, retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes'])})
    if (!go) this.fail(new DeclinedError('nothing moved: the answer was no'), {moved: 0, cancelled: true}, {line: 'nothing moved'})

    const progress = new ProgressLine(this.io.err)
    const interrupt = onInterrupt({err: this.io.err})
    let report: DrainReport = {done: 0, failed: 0, skipped: 0, stoppedBy: 'error'}
    try {
      report = await moveMessages(src, from, dst, args.destination, {
        limit: flags.limit,
        filter,
        batchSize: flags['batch-size'],
        idleMs,
        signal: interrupt.signal,
        onProgress: (r) => {
          report = {...r}
          progress.update(`moved ${r.done}${n === undefined ? '' : `/${n}`}`)
        },
      })
    } catch (error) {
      // it stopped before it could report: the counts so far still go to the audit log
      report = {...report, stoppedBy: 'error', error: error as Error}
    } finally {
      progress.done()
    }
    // a signal from here on must not cost the audit line: handled until it is written
    let remaining: number | undefined
    if (!report.error) remaining = await src.stats(from).then((s) => s.counts.waiting, (error: unknown) => void (report = {...report, stoppedBy: 'error', error: error as Error}))
    await this.audit({
      command: 'move',
      url: src.displayUrl,
      queue: args.source,
      counts: {moved: report.done, failed: report.failed, skipped: report.skipped},
      details: {to: args.destination, toUrl: dst.displayUrl, state, where: where?.text, limit: flags.limit, outcome: report.stoppedBy, error: report.error?.message},
    })
    interrupt.dispose()
    const result = {from: args.source, to: args.destination, state, moved: report.done, failed: report.failed, skipped: report.skipped, remaining, stoppedBy: report.stoppedBy, note: newIdsNote(src, dst, report.done, 'moved')}
    const summary = `moved ${report.done}, failed ${report.failed}${filter ? `, not matching ${report.skipped}` : ''}${remaining === undefined ? '' : `, ${remaining} left in the source`}`
    if (report.stoppedBy === 'interrupted') this.fail(new InterruptedError(`interrupted: ${summary} — run the command again to finish`), result)
    if (report.error) {
      const why = `the move stopped: ${report.error.message} — ${summary}; messages not moved stay on the source (some may also be at the destination); run the command again to finish`
      this.fail(stoppedBy(report.error, why), result)
    }
    this.note(result.note) // on success only: a failure is one line (the note stays in the --json result)
    this.log(summary)
    return result
  }
}
