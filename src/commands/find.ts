import {Flags} from '@oclif/core'
import type {Broker, Message} from '../broker/contract.js'
import {BaseCommand, stoppedBy} from '../cli/base-command.js'
import {InterruptedError, NotSupportedError, UsageError} from '../kernel/errors.js'
import {ProgressLine} from '../kernel/output.js'
import {jsonEscaped, safeLine} from '../kernel/terminal.js'
import {formatDuration, parseDuration} from '../kernel/units.js'
import {onInterrupt} from '../cli/signals.js'
import {messageToJson, payloadPreview} from '../services/envelope.js'
import {compileWhere, WHERE_EXAMPLE, WHERE_VARIABLES} from '../services/find/expression.js'
import {findJobs, type FindReport} from '../services/find/find.js'
import {parseState} from '../services/states.js'

export default class Find extends BaseCommand<typeof Find> {
  static override completeArgs = 'queues' as const
  static override summary = 'Find the jobs that match a condition, across queues and states, without taking them.'
  static override description = `The condition is a CEL expression over each job (--where). Fields:
${Object.entries(WHERE_VARIABLES).map(([k, v]) => `  ${k.padEnd(12)}${v}`).join('\n')}
Strings have contains, startsWith, endsWith, matches (a regex); "x in headers" tests a key; a job the expression cannot read (a key it lacks) does not match.

Matches are printed as they are found: a table, or NDJSON with --json (one job a line, like export). Each state is read from a snapshot of at most --scan jobs, so memory stays bounded; a note says when --scan cut a state short. Where reading costs deliveries (AMQP requeues, SQS receive counts) it is refused unless --accept-peek-cost.`
  static override examples = [
    {description: 'Failed jobs of tenant 42 in the last hour', command: `<%= config.bin %> <%= command.id %> bullmq:emails --where 'body.tenant == 42' --state failed --since 1h`},
    {description: 'Every queue: jobs whose last error mentions a timeout, as NDJSON', command: `<%= config.bin %> <%= command.id %> --all --where 'lastError.contains("timeout")' --json`},
    {description: 'Two queues, a header and the age', command: `<%= config.bin %> <%= command.id %> emails sms --where '"tenant" in headers && headers.tenant == "acme" && age > duration("10m")'`},
  ]

  static override strict = false
  static override args = {}

  static override flags = {
    where: Flags.string({summary: `CEL condition, e.g. '${WHERE_EXAMPLE}' (default: every job).`}),
    all: Flags.boolean({summary: 'Search every queue of the broker.'}),
    state: Flags.string({summary: 'Only these states (comma-separated): waiting, inflight, delayed, retry, dead (failed), completed, paused. Default: all.'}),
    limit: Flags.integer({summary: 'Stop after N matches.', min: 1}),
    since: Flags.string({summary: 'Only jobs enqueued within this long (e.g. 2h).'}),
    scan: Flags.integer({summary: 'Read at most N jobs per queue and state (where the filter is pushed down to the broker: pg-boss, BullMQ, Bull, at most N of its candidates).', min: 1, default: 10_000}),
    raw: Flags.boolean({summary: "Include the library's own form of each job (JSON output)."}),
    'accept-peek-cost': Flags.boolean({summary: 'AMQP/SQS: search anyway, though reading requeues each message (AMQP) or counts a receive (SQS).'}),
  }

  async run(): Promise<unknown> {
    const {flags} = this
    const ctor = this.ctor as typeof Find
    const {argv} = await this.parse({flags: ctor.flags, baseFlags: ctor.baseFlags, enableJsonFlag: ctor.enableJsonFlag, args: {}, strict: false})
    const named = argv as string[]
    if (named.some((q) => q.trim() === '')) throw new UsageError('a queue name is empty — give the queues to search, or --all')
    if (named.length === 0 && !flags.all) throw new UsageError(`name the queues to search, or --all: queue find QUEUE --where '${WHERE_EXAMPLE}'`)
    if (named.length > 0 && flags.all) throw new UsageError('--all searches every queue — drop the queue names, or --all')
    const states = flags.state === undefined ? undefined : [...new Set(flags.state.split(',').map((s) => parseState(s)))]
    const since = flags.since === undefined ? undefined : Date.now() - parseDuration(flags.since, '--since', {timer: false})
    const where = flags.where === undefined ? undefined : await compileWhere(flags.where)

    const broker = await this.openBroker()
    const queues = flags.all ? await allQueues(broker) : named
    const json = this.jsonEnabled()
    const table = new StreamingTable()
    const progress = new ProgressLine()
    const interrupt = onInterrupt()
    let report: FindReport
    try {
      report = await findJobs(broker, queues, {
        where,
        states,
        limit: flags.limit,
        since,
        scan: flags.scan,
        acceptPeekCost: flags['accept-peek-cost'],
        signal: interrupt.signal,
        onMatch: (m) => {
          progress.done()
          if (json) this.io.out.write(`${jsonEscaped(JSON.stringify(messageToJson(m, {raw: flags.raw})))}\n`)
          else this.log(table.row(m))
        },
        onProgress: (p) => progress.update(`searching ${safeLine(p.queue)} (${p.state}): ${p.scanned} read, ${p.matched} matching`),
      })
    } catch (error) {
      progress.done()
      if (error instanceof UsageError || error instanceof NotSupportedError) throw error
      throw stoppedBy(error as Error, `the search stopped: ${(error as Error).message}`)
    } finally {
      progress.done()
      interrupt.dispose()
    }
    this.notes(report, where?.failures)
    if (report.stoppedBy === 'interrupted') throw new InterruptedError(`interrupted: ${report.matched} matching of ${report.scanned} read`)
    return undefined
  }

  private notes(report: FindReport, failures?: {count: number; first?: string}): void {
    const lines = [`${report.matched} matching of ${report.scanned} read${report.stoppedBy === 'limit' ? ' (stopped at --limit)' : ''}`]
    for (const t of report.truncated) lines.push(`note: only the first ${t.scanned}${t.count === undefined ? '' : ` of ${t.count}`} ${t.state} jobs of "${t.queue}" were read — raise --scan to read more`)
    if (failures && failures.count > 0) lines.push(`note: the expression could not be evaluated on ${failures.count} job(s), counted as not matching; first: ${failures.first}`)
    lines.push(...report.caveats)
    for (const line of lines) this.io.err.write(`${safeLine(line)}\n`)
  }
}

async function allQueues(broker: Broker): Promise<string[]> {
  if (!(await broker.capabilitiesOf()).listQueues) throw new NotSupportedError(`${broker.displayUrl} cannot list its queues — name the queues to search`)
  return (await broker.listQueues()).map((q) => q.name)
}

/** Rows of fixed width, printed one by one as matches arrive (a table that streams). */
class StreamingTable {
  private headed = false
  private readonly now = Date.now()
  row(m: Message): string {
    const cells = [fit(m.queue, 18), fit(m.state, 9), fit(m.id, 22), fit(m.name ?? '', 14), fit(String(m.attempts), 3, true), fit(m.enqueuedAt === undefined ? '-' : formatDuration(this.now - m.enqueuedAt), 7, true), payloadPreview(m, 40), m.lastError ? ` ${m.lastError.split('\n')[0]!.slice(0, 50)}` : '']
    const line = safeLine(cells.join('  ').trimEnd())
    if (this.headed) return line
    this.headed = true
    const head = [fit('queue', 18), fit('state', 9), fit('id', 22), fit('name', 14), fit('att', 3, true), fit('age', 7, true), 'payload'].join('  ')
    return `${head}\n${line}`
  }
}

function fit(text: string, width: number, right = false): string {
  const t = text.length > width ? `${text.slice(0, width - 1)}…` : text
  return right ? t.padStart(width) : t.padEnd(width)
}
