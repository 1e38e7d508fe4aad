import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {writeAudit} from '../../services/ops/audit.js'
import {findJobById} from '../../services/find/act.js'

export default class JobPromote extends BaseCommand<typeof JobPromote> {
  static override summary = 'Run one delayed job now: delayed → waiting, where the library can.'
  static override description = 'Uses the library\'s own promotion (BullMQ Job.promote). Recorded in the audit log.'
  static override examples = [{description: 'A delayed BullMQ job', command: '<%= config.bin %> <%= command.id %> bullmq:emails 42'}]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: 'Queue (on Redis: kind:name).'}),
    id: Args.string({ignoreStdin: true, required: true, description: 'Job id.'}),
  }

  async run(): Promise<unknown> {
    const {args} = this
    if (args.queue.trim() === '' || args.id.trim() === '') throw new UsageError('the queue or the id is empty — queue job promote QUEUE ID')
    const broker = await this.openBroker()
    await broker.stats(args.queue) // NotFoundError (exit 4) first
    const caps = await broker.capabilitiesOf(args.queue)
    if (!caps.retry || !caps.retry.states.includes('delayed')) {
      throw new NotSupportedError(`queue "${args.queue}" on ${broker.displayUrl} cannot promote a delayed job — it runs when due; to run it now, enqueue a copy and delete it (queue job delete)`)
    }
    const job = await findJobById(broker, args.queue, args.id, {state: 'delayed'})
    const promoted = await broker.retry(args.queue, {state: 'delayed', ids: [job.id]})
    await writeAudit({command: 'job promote', url: broker.displayUrl, queue: args.queue, counts: {promoted}, details: {id: args.id}})
    if (promoted === 0) this.fail(new UsageError(`job "${args.id}" was no longer delayed when promoted — look again with queue job show`), {promoted: 0})
    this.log(`promoted job "${args.id}" of "${args.queue}": waiting now`)
    return {queue: args.queue, id: args.id, promoted}
  }
}
