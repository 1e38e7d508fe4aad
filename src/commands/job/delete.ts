import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {queueArgDescription} from '../../adapters/registry.js'
import {DeclinedError, UsageError} from '../../kernel/errors.js'
import {rerunHint} from '../../cli/rerun.js'
import {writeAudit} from '../../services/ops/audit.js'
import {confirmDestructive} from '../../services/ops/confirm.js'
import {checkRemovable, DEFAULT_SCAN, findJobById} from '../../services/find/act.js'
import {parseState} from '../../services/states.js'
import {targetName} from '../../services/target-name.js'

export default class JobDelete extends BaseCommand<typeof JobDelete> {
  static override summary = 'Delete one job by id, with the library\'s own removal.'
  static override description = `Finds the job (in every state, or --state), then deletes it where it is: BullMQ/Bull remove the job and its logs; Sidekiq removes its exact JSON from the queue list or schedule/retry/dead set; graphile-worker deletes it with its own complete_jobs; RQ as its Job.delete does; asynq as its DeleteTask does (never an active task); Celery on Redis LREMs a waiting task's envelope; pg-boss deletes its row. Asks first on a terminal; needs --yes elsewhere. Recorded in the audit log. To delete every job matching a condition: queue purge QUEUE --state STATE --where EXPR.`
  static override examples = [
    {description: 'A failed BullMQ job', command: '<%= config.bin %> <%= command.id %> bullmq:emails 42 --yes'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue holding the job.')}),
    id: Args.string({ignoreStdin: true, required: true, description: 'Job id.'}),
  }

  static override flags = {
    state: Flags.string({summary: 'Look only in this state.'}),
    scan: Flags.integer({summary: 'Read at most N jobs per state while looking.', min: 1, default: DEFAULT_SCAN}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask: needed when not on a terminal.'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '' || args.id.trim() === '') throw new UsageError('the queue or the id is empty — queue job delete QUEUE ID')
    const broker = await this.openBroker()
    const job = await findJobById(broker, args.queue, args.id, {state: flags.state === undefined ? undefined : parseState(flags.state), scan: flags.scan})
    await checkRemovable(broker, args.queue, job.state)
    const go = await confirmDestructive({input: this.io.in, output: this.io.err, yes: flags.yes, question: `delete the ${job.state} job "${args.id}" of "${args.queue}" on ${targetName(broker.displayUrl)}?`, retryHint: rerunHint(this.config.bin, this.id, this.argv, ['--yes'])})
    if (!go) this.fail(new DeclinedError('nothing deleted: the answer was no'), {deleted: 0, cancelled: true}, {line: 'nothing deleted'})
    const removed = await broker.remove(args.queue, [args.id], job.state)
    await writeAudit({command: 'job delete', url: broker.displayUrl, queue: args.queue, counts: {removed}, details: {id: args.id, state: job.state}})
    if (removed === 0) this.fail(new UsageError(`job "${args.id}" left the ${job.state} state before it could be deleted — look again with queue job show`), {deleted: 0})
    this.log(`deleted the ${job.state} job "${args.id}" of "${args.queue}"`)
    return {queue: args.queue, id: args.id, state: job.state, deleted: removed}
  }
}
