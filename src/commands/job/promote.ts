import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {queueArgDescription} from '../../adapters/registry.js'
import {NotFoundError, NotSupportedError, UsageError} from '../../kernel/errors.js'
import {writeAudit} from '../../services/ops/audit.js'
import {findJobById} from '../../services/find/act.js'
import type {Broker, Message, MessageState} from '../../broker/contract.js'

const PROMOTABLE: MessageState[] = ['delayed', 'retry']

/** The job in the first of `states` that holds it; not found in any: the first state's NotFoundError. */
async function findPromotable(broker: Broker, queue: string, id: string, states: MessageState[]): Promise<Message> {
  let first: unknown
  for (const state of states) {
    try {
      return await findJobById(broker, queue, id, {state})
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error
      first ??= error
    }
  }
  throw first
}

export default class JobPromote extends BaseCommand<typeof JobPromote> {
  static override summary = 'Run one delayed job now: delayed → waiting, where the library can.'
  static override description = 'Uses the library\'s own promotion: BullMQ/Bull Job#promote, Sidekiq SortedEntry#add_to_queue (scheduled) or SortedEntry#retry (retry set), graphile-worker reschedule_jobs (retry), pg-boss start_after = now. Recorded in the audit log.'
  static override examples = [{description: 'A delayed BullMQ job', command: '<%= config.bin %> <%= command.id %> bullmq:emails 42'}]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue holding the job.')}),
    id: Args.string({ignoreStdin: true, required: true, description: 'Job id.'}),
  }

  async run(): Promise<unknown> {
    const {args} = this
    if (args.queue.trim() === '' || args.id.trim() === '') throw new UsageError('the queue or the id is empty — queue job promote QUEUE ID')
    const broker = await this.openBroker()
    await broker.stats(args.queue) // NotFoundError (exit 4) first
    const caps = await broker.capabilitiesOf(args.queue)
    // delayed jobs, and jobs waiting for their next retry where the library's retry runs them now (Sidekiq, graphile-worker)
    const states = PROMOTABLE.filter((s) => caps.retry && caps.retry.states.includes(s))
    if (states.length === 0) {
      throw new NotSupportedError(`queue "${args.queue}" on ${broker.displayUrl} cannot promote a delayed job — it runs when due; to run it now, enqueue a copy and delete it (queue job delete)`)
    }
    const job = await findPromotable(broker, args.queue, args.id, states)
    const state = job.state
    const promoted = await broker.retry(args.queue, {state, ids: [job.id]})
    await writeAudit({command: 'job promote', url: broker.displayUrl, queue: args.queue, counts: {promoted}, details: {id: args.id, state}})
    if (promoted === 0) this.fail(new UsageError(`job "${args.id}" was no longer ${state} when promoted — look again with queue job show`), {promoted: 0})
    this.log(`promoted the ${state} job "${args.id}" of "${args.queue}": waiting now`)
    return {queue: args.queue, id: args.id, state, promoted}
  }
}
