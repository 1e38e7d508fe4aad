import {Args, Flags} from '@oclif/core'
import type {MessageState} from '../broker/contract.js'
import {BaseCommand} from '../cli/base-command.js'
import {DeclinedError, NotSupportedError, UsageError} from '../kernel/errors.js'
import {rerunHint} from '../cli/rerun.js'
import {confirmDestructive} from '../services/ops/confirm.js'
import {parseState} from '../services/states.js'
import {queueArgDescription} from '../adapters/registry.js'
import {compileWhere, type Where} from '../services/find/expression.js'
import {checkRemovable, DEFAULT_SCAN, describeSelection, selectJobs, selectionNotes} from '../services/find/act.js'
import {safeLine} from '../kernel/terminal.js'
import type {Broker} from '../broker/contract.js'
import {targetName} from '../services/target-name.js'

export default class Purge extends BaseCommand<typeof Purge> {
  static override summary = 'Remove every message in one state of a queue.'
  static override description = `Asks first on a terminal; anywhere else (CI, a pipe) it needs --yes and otherwise exits 2 without touching anything. --dry-run shows how many would go. Each purge is recorded in the audit log ($XDG_STATE_HOME/queuectl/audit.log).`
  static override examples = [
    {description: 'Empty the waiting messages of a queue (asks first)', command: '<%= config.bin %> <%= command.id %> emails'},
    {description: 'Drop the dead letters, in a script', command: '<%= config.bin %> <%= command.id %> emails --state dead --yes'},
    {description: 'Delete only the failed jobs of tenant 42 (shows the count and a sample first)', command: `<%= config.bin %> <%= command.id %> bullmq:emails --state failed --where 'body.tenant == 42' --dry-run`},
    {description: 'How many would be removed', command: '<%= config.bin %> <%= command.id %> bullmq:emails --state completed --dry-run'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to empty.')}),
  }

  static override flags = {
    state: Flags.string({summary: 'Which messages: waiting (default), delayed, dead (failed), completed, retry.', default: 'waiting'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask: needed when not on a terminal.'}),
    'dry-run': Flags.boolean({summary: 'Show how many would be removed (with --where: and a sample); remove nothing.'}),
    where: Flags.string({summary: 'Remove only the jobs matching this CEL expression (see queue find --help), one by one.'}),
    limit: Flags.integer({summary: 'With --where: remove at most N jobs.', min: 1}),
    scan: Flags.integer({summary: 'With --where: read at most N jobs of the state.', min: 1, default: DEFAULT_SCAN}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to purge')
    const state: MessageState = parseState(flags.state)
    if (flags.limit !== undefined && flags.where === undefined) throw new UsageError('--limit needs --where: a purge empties the whole state')
    const where = flags.where === undefined ? undefined : await compileWhere(flags.where)
    const broker = await this.openBroker()
    const stats = await broker.stats(args.queue) // a missing queue is exit 4 first
    if (where) return this.purgeWhere(broker, args.queue, state, where)
    const caps = await broker.capabilitiesOf(args.queue)
    if (!caps.purgeStates.includes(state)) {
      throw new NotSupportedError(`${stats.kind} queue "${args.queue}" cannot purge "${state}" messages — it can purge: ${caps.purgeStates.join(', ') || 'nothing'}`)
    }
    const count = stats.counts[state]
    const what = `${count ?? 'all'} ${state} message${count === 1 ? '' : 's'} of "${args.queue}" on ${targetName(broker.displayUrl)}`
    if (flags['dry-run']) {
      this.log(`would remove ${what} (dry run: nothing removed)`)
      return {dryRun: true, broker: broker.displayUrl, queue: args.queue, state, count}
    }
    const go = await confirmDestructive({input: this.io.in, output: this.io.err, 
      yes: flags.yes,
      question: `remove ${what}?`,
      retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes']),
    })
    if (!go) this.fail(new DeclinedError('nothing removed: the answer was no'), {broker: broker.displayUrl, queue: args.queue, state, removed: 0, cancelled: true}, {line: 'nothing removed'})
    const removed = await broker.purge(args.queue, state)
    await this.audit({command: 'purge', url: broker.displayUrl, queue: args.queue, counts: {removed}, details: {state}})
    this.log(`removed ${removed} ${state} message${removed === 1 ? '' : 's'} from "${args.queue}"`)
    return {broker: broker.displayUrl, queue: args.queue, state, removed}
  }

  /** --where: the matching jobs, deleted one by one by id (the library's own removal). */
  private async purgeWhere(broker: Broker, queue: string, state: MessageState, where: Where): Promise<unknown> {
    const {flags} = this
    await checkRemovable(broker, queue, state)
    const sel = await selectJobs(broker, queue, where, state, {limit: flags.limit, scan: flags.scan})
    for (const note of selectionNotes(sel, where)) this.io.err.write(`${safeLine(note)}\n`)
    const ids = sel.matches.map((m) => m.id)
    if (flags['dry-run']) {
      for (const line of describeSelection('remove', sel, state, queue, where)) this.log(line)
      return {dryRun: true, broker: broker.displayUrl, queue, state, where: where.text, count: ids.length, sample: ids.slice(0, 5)}
    }
    if (ids.length === 0) {
      this.log(`no ${state} job of "${queue}" matches ${where.text}: nothing removed`)
      return {broker: broker.displayUrl, queue, state, where: where.text, matched: 0, removed: 0}
    }
    const what = `${ids.length} ${state} job${ids.length === 1 ? '' : 's'} of "${queue}" on ${targetName(broker.displayUrl)} matching ${where.text}`
    const go = await confirmDestructive({input: this.io.in, output: this.io.err, yes: flags.yes, question: `remove ${what}?`, retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes'])})
    if (!go) this.fail(new DeclinedError('nothing removed: the answer was no'), {broker: broker.displayUrl, queue, state, removed: 0, cancelled: true}, {line: 'nothing removed'})
    const removed = await broker.remove(queue, ids, state)
    await this.audit({command: 'purge', url: broker.displayUrl, queue, counts: {removed, matched: ids.length}, details: {state, where: where.text}})
    if (removed < ids.length) this.io.err.write(`note: ${ids.length - removed} matching job(s) had left the ${state} state before they could be removed\n`)
    this.log(`removed ${removed} ${state} job${removed === 1 ? '' : 's'} matching from "${queue}"`)
    return {broker: broker.displayUrl, queue, state, where: where.text, matched: ids.length, removed}
  }
}
