import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {parseDuration} from '../kernel/units.js'
import {safeLine} from '../kernel/terminal.js'

export default class Workers extends BaseCommand<typeof Workers> {
  static override completeArgs = 'queues' as const
  static override summary = 'Show who is working: the consumers and worker processes the broker or job library records.'
  static override description = `One row per consumer or worker process: its identity (host, pid, name or tag), queues, busy/concurrency, the jobs it works on now where the library records them, when it started, its last heartbeat and version. A heartbeat older than the library's own threshold (Sidekiq 60s, RQ 420s, graphile-worker 4h) is shown STALE: a worker killed without a goodbye, not cleaned up yet. RabbitMQ: the management API's consumers (channel, prefetch, ack mode); NATS: JetStream consumers and their waiting pull requests; Redis: BullMQ and Bull workers (their client names, as getWorkers reads them), Sidekiq processes and their work, RQ workers and their current job, Celery workers (on Redis and RabbitMQ) through Celery's inspect broadcast (those that answer within a second); PostgreSQL: graphile-worker's locked_by; Kafka: the members of consumer groups (classic and KIP-848) and share groups (client id, host, member id, partitions). SQS, plain lists and pg-boss record no workers: a note says so.`
  static override examples = [
    {description: 'Every worker the broker knows', command: '<%= config.bin %> <%= command.id %> --url redis://127.0.0.1:6379'},
    {description: 'Who consumes one queue, as JSON', command: '<%= config.bin %> <%= command.id %> orders --json'},
    {description: 'Call a worker stale after 30s without a heartbeat', command: '<%= config.bin %> <%= command.id %> sidekiq:default --stale-after 30s'},
  ]

  static override strict = false
  static override args = {}

  static override flags = {
    'stale-after': Flags.string({summary: "A heartbeat older than this is STALE (default: the library's own threshold)."}),
  }

  async run(): Promise<unknown> {
    const {flags} = this
    const ctor = this.ctor as typeof Workers
    const {argv} = await this.parse({flags: ctor.flags, baseFlags: ctor.baseFlags, enableJsonFlag: ctor.enableJsonFlag, args: {}, strict: false})
    const queues = (argv as string[]).filter((a) => a.trim() !== '')
    const staleAfterMs = flags['stale-after'] === undefined ? undefined : parseDuration(flags['stale-after'], '--stale-after', {timer: false})
    const {listWorkers, renderWorkerTable} = await import('../services/workers.js')
    const broker = await this.openBroker()
    const report = await listWorkers(broker, queues, staleAfterMs)
    if (report.workers.length) this.log(renderWorkerTable(report.workers))
    else this.log(`no workers${queues.length ? ` on ${queues.join(', ')}` : ''} on ${broker.displayUrl}`)
    for (const note of report.notes) this.logToStderr(safeLine(`note: ${note}`))
    return {broker: broker.displayUrl, queues, workers: report.workers, notes: report.notes}
  }
}
