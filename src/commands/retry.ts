import {Args, Flags} from '@oclif/core'
import {BaseCommand, stoppedBy} from '../cli/base-command.js'
import {DeclinedError, UsageError} from '../kernel/errors.js'
import {rerunHint} from '../cli/rerun.js'
import {confirmDestructive} from '../services/ops/confirm.js'
import {retryMessages} from '../services/ops/retry.js'
import {retryIdsNote} from '../services/ops/move.js'
import {onInterrupt} from '../cli/signals.js'
import {parseState} from '../services/states.js'
import {parseDuration} from '../kernel/units.js'
import {queueArgDescription} from '../adapters/registry.js'
import {compileWhere} from '../services/find/expression.js'
import {DEFAULT_SCAN, describeSelection, selectJobs, selectionNotes} from '../services/find/act.js'
import {safeLine} from '../kernel/terminal.js'
import {targetName} from '../services/target-name.js'

export default class Retry extends BaseCommand<typeof Retry> {
  static override summary = 'Put failed/dead messages back to waiting.'
  static override description = `Uses the library's own mechanism where there is one (BullMQ retryJobs, SQS redrive from the DLQ); on RabbitMQ it moves messages from the queue's dead-letter queue back to it (copied and confirmed before being removed). Retrying everything asks first on a terminal and needs --yes elsewhere; retrying named --id messages does not. Recorded in the audit log.`
  static override examples = [
    {description: 'Retry every dead message of a queue', command: '<%= config.bin %> <%= command.id %> emails --yes'},
    {description: 'Retry two failed BullMQ jobs by id', command: '<%= config.bin %> <%= command.id %> bullmq:emails --id 41 --id 42'},
    {description: 'Retry at most 10, in a script', command: '<%= config.bin %> <%= command.id %> orders --limit 10 --yes'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue whose dead messages to retry.')}),
  }

  static override flags = {
    state: Flags.string({summary: 'Which messages: dead (failed, default) or retry.', default: 'dead'}),
    id: Flags.string({summary: 'Only this message id (repeatable).', multiple: true}),
    where: Flags.string({summary: 'Only the jobs matching this CEL expression (see queue find --help), e.g. \'body.tenant == 42\'.'}),
    scan: Flags.integer({summary: 'With --where: read at most N jobs of the state.', min: 1, default: DEFAULT_SCAN}),
    limit: Flags.integer({summary: 'Retry at most N messages.', min: 1}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask: needed to retry all when not on a terminal.'}),
    'dry-run': Flags.boolean({summary: 'Show how many would be retried; retry nothing.'}),
    'batch-size': Flags.integer({summary: 'Messages per confirmed batch (dead-letter queue moves).', min: 1, default: 100}),
    idle: Flags.string({summary: 'Dead-letter queue moves: stop when nothing arrived for this long.', default: '3s'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to retry')
    const state = parseState(flags.state)
    if (state !== 'dead' && state !== 'retry') throw new UsageError(`--state ${flags.state}: only dead (failed) or retry messages can be retried`)
    let ids = flags.id?.map((i) => i.trim()).filter(Boolean)
    if (flags.id && ids!.length === 0) throw new UsageError('--id is empty — give a message id')
    if (flags.id && flags.where !== undefined) throw new UsageError('--id and --where both given — name the jobs, or describe them, not both')
    const where = flags.where === undefined ? undefined : await compileWhere(flags.where)
    const idleMs = parseDuration(flags.idle, '--idle')
    const broker = await this.openBroker()
    const stats = await broker.stats(args.queue)
    if (where) {
      const sel = await selectJobs(broker, args.queue, where, state, {limit: flags.limit, scan: flags.scan})
      for (const note of selectionNotes(sel, where)) this.io.err.write(`${safeLine(note)}\n`)
      if (flags['dry-run']) {
        for (const line of describeSelection('retry', sel, state, args.queue, where)) this.log(line)
        return {dryRun: true, queue: args.queue, state, where: where.text, count: sel.matches.length, sample: sel.matches.slice(0, 5).map((m) => m.id)}
      }
      ids = sel.matches.map((m) => m.id)
      if (ids.length === 0) {
        this.log(`no ${state} job of "${args.queue}" matches ${where.text}: nothing retried`)
        return {queue: args.queue, state, where: where.text, matched: 0, retried: 0}
      }
    }
    const count = stats.counts[state]
    const n = ids ? ids.length : flags.limit === undefined ? count : Math.min(flags.limit, count ?? flags.limit)
    const what = `${ids ? `${ids.length} ${where ? 'matching' : 'named'}` : (n ?? 'all')} ${state} message${n === 1 ? '' : 's'} of "${args.queue}" on ${targetName(broker.displayUrl)}`
    if (flags['dry-run']) {
      this.log(`would retry ${what} (dry run: nothing retried)`)
      return {dryRun: true, queue: args.queue, state, count: n}
    }
    // naming the messages is deliberate enough; "all of them" is what needs a yes
    if (!ids || where) {
      const go = await confirmDestructive({input: this.io.in, output: this.io.err, yes: flags.yes, question: `retry ${what}?`, retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes'])})
      if (!go) this.fail(new DeclinedError('nothing retried: the answer was no'), {retried: 0, cancelled: true}, {line: 'nothing retried'})
    }
    const interrupt = onInterrupt({err: this.io.err})
    let report
    try {
      report = await retryMessages(broker, args.queue, {state, ids, limit: flags.limit, batchSize: flags['batch-size'], idleMs, signal: interrupt.signal})
    } finally {
      interrupt.dispose()
    }
    await this.audit({
      command: 'retry',
      url: broker.displayUrl,
      queue: args.queue,
      counts: {retried: report.retried, failed: report.failed},
      details: {state, ids: where ? undefined : ids, where: where?.text, matched: where ? ids?.length : undefined, limit: flags.limit, via: report.via, error: report.error?.message},
    })
    const note = retryIdsNote(broker, report.via, report.retried)
    const result = {queue: args.queue, state, retried: report.retried, failed: report.failed, via: report.via, ...(note ? {note} : {})}
    if (report.error) this.fail(stoppedBy(report.error, `the retry stopped: ${report.error.message} — ${report.retried} were retried; run the command again to finish`), result)
    this.note(note)
    if (ids && report.retried < ids.length) this.io.err.write(`note: ${ids.length - report.retried} of the ${where ? 'matching' : 'named'} ids were not found among the ${state} messages\n`)
    this.log(`retried ${report.retried} ${state} message${report.retried === 1 ? '' : 's'} of "${args.queue}"${report.via === 'broker' ? '' : ` (moved back from ${report.via})`}`)
    return result
  }
}
