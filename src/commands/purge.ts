import {Args, Flags} from '@oclif/core'
import type {MessageState} from '../broker/contract.js'
import {BaseCommand} from '../cli/base-command.js'
import {DeclinedError, NotSupportedError, UsageError} from '../kernel/errors.js'
import {rerunHint} from '../cli/rerun.js'
import {confirmDestructive} from '../services/ops/confirm.js'
import {parseState} from '../services/states.js'
import {queueArgDescription} from '../adapters/registry.js'

export default class Purge extends BaseCommand<typeof Purge> {
  static override summary = 'Remove every message in one state of a queue.'
  static override description = `Asks first on a terminal; anywhere else (CI, a pipe) it needs --yes and otherwise exits 2 without touching anything. --dry-run shows how many would go. Each purge is recorded in the audit log ($XDG_STATE_HOME/queuectl/audit.log).`
  static override examples = [
    {description: 'Empty the waiting messages of a queue (asks first)', command: '<%= config.bin %> <%= command.id %> emails'},
    {description: 'Drop the dead letters, in a script', command: '<%= config.bin %> <%= command.id %> emails --state dead --yes'},
    {description: 'How many would be removed', command: '<%= config.bin %> <%= command.id %> bullmq:emails --state completed --dry-run'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to empty.')}),
  }

  static override flags = {
    state: Flags.string({summary: 'Which messages: waiting (default), delayed, dead (failed), completed, retry.', default: 'waiting'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask: needed when not on a terminal.'}),
    'dry-run': Flags.boolean({summary: 'Show how many would be removed; remove nothing.'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to purge')
    const state: MessageState = parseState(flags.state)
    const broker = await this.openBroker()
    const stats = await broker.stats(args.queue) // a missing queue is exit 4 first
    const caps = await broker.capabilitiesOf(args.queue)
    if (!caps.purgeStates.includes(state)) {
      throw new NotSupportedError(`${stats.kind} queue "${args.queue}" cannot purge "${state}" messages — it can purge: ${caps.purgeStates.join(', ') || 'nothing'}`)
    }
    const count = stats.counts[state]
    const what = `${count ?? 'all'} ${state} message${count === 1 ? '' : 's'} of "${args.queue}" on ${broker.displayUrl}`
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
}
