import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {queueArgDescription} from '../adapters/registry.js'
import {rerunHint} from '../cli/rerun.js'
import {DeclinedError, UsageError} from '../kernel/errors.js'
import {targetName} from '../services/target-name.js'

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Remove a queue and every message it holds.'
  static override description = `Removes the queue and everything the broker or library keeps for it (every state, its keys or rows), and nothing of any other queue. Asks first on a terminal; anywhere else (CI, a pipe) it needs --yes and otherwise exits 2 without touching anything. A missing queue is exit 4. Recorded in the audit log ($XDG_STATE_HOME/queuectl/audit.log). For one job, see \`queue job delete\`.`
  static override examples = [
    {description: 'Remove a queue (asks first)', command: '<%= config.bin %> <%= command.id %> emails'},
    {description: 'In a script', command: '<%= config.bin %> <%= command.id %> bullmq:emails --yes'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to delete.')}),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask: needed when not on a terminal.'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to delete')
    const {removeQueue} = await import('../services/ops/lifecycle.js')
    const {confirmDestructive} = await import('../services/ops/confirm.js')
    const {writeAudit} = await import('../services/ops/audit.js')
    const broker = await this.openBroker()
    const stats = await broker.stats(args.queue) // a missing queue is exit 4 before asking
    const total = Object.values(stats.counts).reduce((a, b) => a + (b ?? 0), 0)
    const go = await confirmDestructive({
      yes: flags.yes,
      question: `delete ${stats.kind} queue "${args.queue}" and its ${total} message${total === 1 ? '' : 's'} on ${targetName(broker.displayUrl)}?`,
      retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes']),
    })
    if (!go) this.fail(new DeclinedError('nothing deleted: the answer was no'), {broker: broker.displayUrl, queue: args.queue, deleted: false, cancelled: true}, {line: 'nothing deleted'})
    await removeQueue(broker, args.queue)
    await writeAudit({command: 'delete', url: broker.displayUrl, queue: args.queue, counts: {messages: total}, details: {kind: stats.kind, counts: stats.counts}})
    this.log(`deleted ${stats.kind} queue "${args.queue}" (${total} message${total === 1 ? '' : 's'}) from ${broker.displayUrl}`)
    return {broker: broker.displayUrl, queue: args.queue, deleted: true, messages: total}
  }
}
