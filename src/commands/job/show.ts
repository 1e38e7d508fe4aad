import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {queueArgDescription} from '../../adapters/registry.js'
import {UsageError} from '../../kernel/errors.js'
import {safeBlock} from '../../kernel/terminal.js'
import {messageToJson} from '../../services/envelope.js'
import {DEFAULT_SCAN, findJobById} from '../../services/find/act.js'
import {parseState} from '../../services/states.js'

export default class JobShow extends BaseCommand<typeof JobShow> {
  static override summary = 'Show one job by id: its whole envelope and the library\'s own fields.'
  static override description = `Looks for the job in every state of the queue (or --state) and prints its envelope: name, state, attempts, times, headers, payload and decoded body, last error, and the library's own form of it under "raw" (BullMQ: returnvalue, progress, stacktrace…; Sidekiq: error_class, error_backtrace…; pg-boss: output…). Reading is a peek: where a peek costs deliveries (AMQP, SQS) it is refused unless --accept-peek-cost.`
  static override examples = [
    {description: 'A failed BullMQ job', command: '<%= config.bin %> <%= command.id %> bullmq:emails 42'},
    {description: 'A pg-boss job, as JSON', command: '<%= config.bin %> <%= command.id %> pgboss:emails 9d4c…-… --json'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue holding the job.')}),
    id: Args.string({ignoreStdin: true, required: true, description: 'Job id.'}),
  }

  static override flags = {
    state: Flags.string({summary: 'Look only in this state.'}),
    scan: Flags.integer({summary: 'Read at most N jobs per state while looking.', min: 1, default: DEFAULT_SCAN}),
    'accept-peek-cost': Flags.boolean({summary: 'AMQP/SQS: look anyway, though reading requeues (AMQP) or counts a receive (SQS).'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '' || args.id.trim() === '') throw new UsageError('the queue or the id is empty — queue job show QUEUE ID')
    const broker = await this.openBroker()
    const job = await findJobById(broker, args.queue, args.id, {state: flags.state === undefined ? undefined : parseState(flags.state), scan: flags.scan, acceptPeekCost: flags['accept-peek-cost']})
    const json = messageToJson(job, {raw: true})
    if (this.jsonEnabled()) return json
    this.log(safeBlock(JSON.stringify(json, null, 2)))
    return undefined
  }
}
