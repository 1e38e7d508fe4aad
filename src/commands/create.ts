import {Args, Flags} from '@oclif/core'
import {CREATE_OPTIONS, queueArgDescription} from '../adapters/registry.js'
import {BaseCommand} from '../cli/base-command.js'
import {UsageError} from '../kernel/errors.js'

// one flag per setting any transport declares; a setting the URL's transport lacks is refused with the ones it has
const settingFlags = Object.fromEntries(
  CREATE_OPTIONS.map((o) => {
    const summary = o.summary
    const flag =
      o.kind === 'boolean'
        ? Flags.boolean({summary, allowNo: true, helpGroup: 'SETTINGS'})
        : o.kind === 'choice'
          ? Flags.string({summary, options: [...(o.values ?? [])], helpGroup: 'SETTINGS'})
          : Flags.string({summary, helpGroup: 'SETTINGS'})
    return [o.name, flag]
  }),
)

export default class Create extends BaseCommand<typeof Create> {
  static override summary = 'Make a queue, with the settings its broker has.'
  static override description = `The settings are the broker's own: each is refused, with the ones that broker takes, where it has no such thing. On Redis job libraries (BullMQ, Bull, Bee-Queue, lists…) creating registers the name. An existing queue is left as it is on SQS, NATS and pg-boss; RabbitMQ refuses one declared with other settings, Kafka any settings for an existing topic (exit 2). Recorded in the audit log.`
  static override examples = [
    {description: 'A quorum queue with a dead-letter queue and a delivery limit', command: '<%= config.bin %> <%= command.id %> orders --type quorum --dead-letter-queue orders.dlq --delivery-limit 5'},
    {description: 'An SQS FIFO queue redriving to a DLQ after 3 receives', command: '<%= config.bin %> <%= command.id %> orders.fifo --url sqs://us-east-1 --fifo --dead-letter-queue orders-dlq.fifo --max-receives 3'},
    {description: 'A JetStream stream and durable consumer', command: '<%= config.bin %> <%= command.id %> ORDERS/worker --url nats://127.0.0.1:4222 --subjects orders.> --max-deliver 5 --ack-wait 30s'},
    {description: 'A Kafka topic with 6 partitions, kept 7 days', command: '<%= config.bin %> <%= command.id %> orders --url kafka://127.0.0.1:9092 --partitions 6 --replication-factor 1 --retention 7d'},
    {description: 'A pg-boss queue with retries', command: '<%= config.bin %> <%= command.id %> pgboss:emails --url postgres://127.0.0.1/app --retry-limit 3 --retry-delay 30s'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to create.')}),
  }

  static override flags = settingFlags

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to create')
    const {makeQueue, queueExists, queueOptionsFor} = await import('../services/ops/lifecycle.js')
    const {writeAudit} = await import('../services/ops/audit.js')
    const broker = await this.openBroker()
    const given = Object.fromEntries(CREATE_OPTIONS.map((o) => [o.name, (flags as Record<string, unknown>)[o.name]]))
    const settings = queueOptionsFor(broker.transport, given)
    const existed = await queueExists(broker, args.queue)
    await makeQueue(broker, args.queue, settings)
    await writeAudit({command: 'create', url: broker.displayUrl, queue: args.queue, counts: {}, details: {settings, existed}})
    this.log(`${existed ? 'queue exists' : 'created'} "${args.queue}" on ${broker.displayUrl}`)
    return {broker: broker.displayUrl, queue: args.queue, created: !existed, settings}
  }
}
