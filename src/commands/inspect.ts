import {Args, Flags} from '@oclif/core'
import type {Message, QueueStats} from '../broker/contract.js'
import {BaseCommand} from '../cli/base-command.js'
import {messageToJson} from '../services/envelope.js'
import {CheckFailedError, UsageError} from '../kernel/errors.js'
import {checkThresholds, peekCaveat, peekMessages} from '../services/inspect.js'
import {queueStats} from '../services/stats.js'
import {paint} from '../kernel/output.js'
import {renderMessageTable, renderQueueSummary, renderQueueTable} from '../services/render.js'
import {parseState} from '../services/states.js'
import {parseDuration} from '../kernel/units.js'
import {safeLine} from '../kernel/terminal.js'
import {queueArgDescription} from '../adapters/registry.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = 'Show queues, their counts by state, and peek at messages.'
  static override description = `Without a queue, lists every queue the broker holds with its counts. With a queue, shows its stats and, with --peek, messages without consuming them (how honest a peek is depends on the broker: AMQP requeues, SQS bumps receive counts; the output says so). On SQS a queue with a redrive policy is not peeked unless --consume-receives: each peek would bring its messages one receive closer to the dead-letter queue.

Thresholds turn inspect into a CI check: when one is crossed the command prints why and exits 1.`
  static override examples = [
    {description: 'Every queue on a Redis server', command: '<%= config.bin %> <%= command.id %> --url redis://127.0.0.1:6379'},
    {description: 'One queue and its 10 oldest waiting messages', command: '<%= config.bin %> <%= command.id %> emails --peek 10'},
    {description: 'Failed BullMQ jobs, as JSON', command: '<%= config.bin %> <%= command.id %> bullmq:emails --state failed --peek 20 --json'},
    {description: 'Fail a CI step when the backlog is too deep or too old', command: '<%= config.bin %> <%= command.id %> emails --max-depth 1000 --max-age 5m --max-dead 0'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, description: queueArgDescription('Queue to inspect.', 'Omit to list all queues.')}),
  }

  static override flags = {
    peek: Flags.integer({summary: 'Show up to N messages without consuming them.', default: 0, min: 0}),
    state: Flags.string({summary: 'Which messages to peek: waiting, inflight, delayed, retry, dead (failed), completed.'}),
    raw: Flags.boolean({summary: "Include the broker's native form of each message (JSON output)."}),
    'consume-receives': Flags.boolean({summary: 'SQS: peek a queue with a redrive policy anyway (each message shown uses up one of its maxReceiveCount receives).'}),
    'max-depth': Flags.integer({summary: 'Exit 1 when waiting + delayed messages exceed N.', min: 0, helpGroup: 'CHECKS'}),
    'max-age': Flags.string({summary: 'Exit 1 when the oldest waiting message is older than this (e.g. 30s).', helpGroup: 'CHECKS'}),
    'max-dead': Flags.integer({summary: 'Exit 1 when dead/failed messages exceed N.', min: 0, helpGroup: 'CHECKS'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    const state = flags.state ? parseState(flags.state) : undefined
    if (state && !args.queue) throw new UsageError('--state needs a queue: queue inspect QUEUE --state dead --peek 10')
    if (flags.peek > 0 && !args.queue) throw new UsageError('--peek needs a queue: queue inspect QUEUE --peek 10')
    if (args.queue !== undefined && args.queue.trim() === '') throw new UsageError('the queue name is empty — give a name, or omit it to list all queues')
    const thresholds = {
      maxDepth: flags['max-depth'],
      maxAgeMs: flags['max-age'] === undefined ? undefined : parseDuration(flags['max-age'], '--max-age', {timer: false}),
      maxDead: flags['max-dead'],
    }

    const broker = await this.openBroker()
    const {stats, incomplete}: {stats: QueueStats[]; incomplete?: string} = args.queue
      ? {stats: [await broker.stats(args.queue)]}
      : await queueStats(broker, {nameThem: 'name one: queue inspect QUEUE'})
    const messages: Message[] = args.queue ? await peekMessages(broker, args.queue, flags.peek, state, {consumeReceives: flags['consume-receives']}) : []
    const violations = checkThresholds(stats, thresholds)
    const caveat = messages.length > 0 ? peekCaveat(await broker.capabilitiesOf(args.queue!)) : undefined

    if (this.jsonEnabled()) {
      const result = args.queue
        ? {broker: broker.displayUrl, queue: stats[0], messages: messages.map((m) => messageToJson(m, {raw: flags.raw})), note: caveat, violations}
        : {broker: broker.displayUrl, queues: stats, incomplete, violations}
      if (violations.length > 0) this.failChecks(violations, result)
      return result
    }

    if (args.queue) {
      const s = stats[0]!
      this.log(`${paint(safeLine(s.name), 'bold')} (${s.kind}) on ${broker.displayUrl}`)
      this.log(renderQueueSummary(s))
      if (s.details && Object.keys(s.details).length > 0) {
        for (const [key, value] of Object.entries(s.details)) this.log(`${safeLine(key)}: ${safeLine(typeof value === 'string' ? value : JSON.stringify(value))}`)
      }
      if (flags.peek > 0) {
        this.log('')
        this.log(messages.length === 0 ? `no ${state ?? 'waiting'} messages` : renderMessageTable(messages))
        if (flags.raw) for (const m of messages) this.log(JSON.stringify(m.raw))
      }
    } else {
      this.log(stats.length === 0 ? `no queues on ${broker.displayUrl}` : renderQueueTable(stats))
    }
    if (caveat) this.io.err.write(`${safeLine(caveat)}\n`)
    if (incomplete) this.io.err.write(`note: the list may be incomplete: ${safeLine(incomplete)}\n`)
    if (violations.length > 0) this.failChecks(violations)
    return undefined
  }

  private failChecks(violations: string[], result?: object): never {
    const why = violations.join('; ')
    this.fail(new CheckFailedError(why), result, {line: `check failed: ${why}`})
  }
}
