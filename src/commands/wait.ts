import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {CheckFailedError, InterruptedError, UsageError} from '../kernel/errors.js'
import {parseCondition} from '../services/ops/conditions.js'
import {waitFor} from '../services/ops/wait.js'
import {ProgressLine} from '../kernel/output.js'
import {onInterrupt} from '../cli/signals.js'
import {formatDuration, parseDuration} from '../kernel/units.js'
import {queueArgDescription} from '../adapters/registry.js'

export default class Wait extends BaseCommand<typeof Wait> {
  static override summary = 'Wait until a queue meets a condition: a CI gate such as "the workers drained the queue".'
  static override description = `Polls the queue's counts until the condition holds (exit 0) or --timeout passes (exit 1, saying what was last seen). A progress line shows on a terminal.

Conditions: empty (nothing waiting, in flight, delayed or retrying), or METRIC OP VALUE joined with "and": metrics depth (waiting + delayed + paused), waiting, inflight, delayed, retry, dead, completed, paused, total, age (oldest waiting, e.g. age<5m), consumers (the consumers or live workers the broker or job library records, as queue workers lists them; refused where none are recorded); operators < <= > >= == !=.`
  static override examples = [
    {description: 'Wait for the workers to drain a queue, at most 2 minutes', command: '<%= config.bin %> <%= command.id %> emails --until empty --timeout 2m'},
    {description: 'Wait until two workers consume the queue (where the broker or library records them)', command: `<%= config.bin %> <%= command.id %> bullmq:emails --until "consumers>=2" --timeout 1m`},
    {description: 'Gate a deploy on a small backlog and no dead letters', command: `<%= config.bin %> <%= command.id %> emails --until "depth<100 and dead==0" --timeout 30s`},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, required: true, description: queueArgDescription('Queue to watch.')}),
  }

  static override flags = {
    until: Flags.string({summary: 'The condition: empty, "depth<100", "dead==0", "age<5m", "consumers>=2" (join with "and").', default: 'empty'}),
    // overrides the connect timeout: here it bounds the whole wait, connecting included
    timeout: Flags.string({summary: 'Give up (exit 1) after this long, connecting included.', default: '60s'}),
    interval: Flags.string({summary: 'How often to look.', default: '1s'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to wait on')
    const condition = parseCondition(flags.until)
    const timeoutMs = parseDuration(flags.timeout ?? '60s', '--timeout')
    const intervalMs = Math.max(50, parseDuration(flags.interval, '--interval'))
    const deadline = Date.now() + timeoutMs
    const broker = await this.openBroker()
    const progress = new ProgressLine(this.io.err)
    const interrupt = onInterrupt({err: this.io.err})
    let result
    try {
      result = await waitFor(broker, args.queue, {
        condition,
        deadline,
        intervalMs,
        signal: interrupt.signal,
        onPoll: (observed, elapsed) => progress.update(`waiting for ${condition.text} on ${args.queue}: ${observed} (${formatDuration(elapsed)})`, true),
      })
    } finally {
      progress.done()
      interrupt.dispose()
    }
    const json = {broker: broker.displayUrl, queue: args.queue, until: condition.text, held: result.held, observed: result.observed, polls: result.polls, elapsedMs: result.elapsedMs}
    if (result.interrupted) this.fail(new InterruptedError(`interrupted while waiting for ${condition.text} on "${args.queue}" (last seen: ${result.observed})`), json)
    if (!result.held) this.fail(new CheckFailedError(`"${args.queue}" did not reach ${condition.text} within ${formatDuration(timeoutMs)} — last seen: ${result.observed}`), json)
    this.log(`${args.queue}: ${condition.text} holds (${result.observed}) after ${formatDuration(result.elapsedMs)}`)
    return json
  }
}
