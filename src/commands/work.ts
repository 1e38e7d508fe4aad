import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {UsageError} from '../kernel/errors.js'
import {colorEnabled} from '../kernel/output.js'
import {handleShutdown} from '../cli/signals.js'
import {formatDuration, parseDuration} from '../kernel/units.js'
import {execHandler, loadHandlerFile, parseDelayRange, parseFailRate, simulate} from '../runtime/handlers.js'
import {WorkSession} from '../runtime/session.js'
import {queueArgDescription} from '../adapters/registry.js'
import {EXHAUSTED_POLICIES, type JobHandler, type WorkerOptions} from '../runtime/worker.js'

export default class Work extends BaseCommand<typeof Work> {
  static override summary = 'Run jobs from a queue locally: a handler module, a shell command, or echo.'
  static override description = `Consumes QUEUE with the embedded worker runtime: bounded concurrency, ack after the handler succeeds (or before, with --ack early), retries with exponential backoff and jitter, dead-letter after --max-attempts, per-job timeout, lease extension for slow jobs.

A message that fails --max-attempts times is never dropped unless you say so: it is dead-lettered where the queue has a dead-letter route (BullMQ failed set, Redis list/stream dead list, a RabbitMQ DLX, an SQS redrive policy, memory://); where it has none, it is put back on the queue and the worker stops (exit 1) naming it. --on-exhausted chooses otherwise: requeue keeps retrying it (after --backoff-max where the broker can delay), drop acks it away.

A --handler module's default export (or named "handler") is called as handler(job) with job.message (payload: the Buffer as stored; body: the payload decoded as JSON whenever it parses as JSON, on every broker, with or without a content type, else undefined; where the adapter decodes more — a Celery task's args and kwargs, a stream entry's fields — that instead), job.attempt and job.signal (aborted on timeout or a forced stop); it succeeds unless it throws or rejects. .ts handlers load through tsx when it is installed. --exec runs a shell command per job with the payload on stdin; exit code 0 is success.

A broker that goes away (restart, network blip) is waited for: the worker subscribes again once it is back, for up to --reconnect-timeout (default 60s; 0 stops at the first failure), then exits 3 with the error. Leases from before the outage are settled if the broker still can, else redelivered (at-least-once: a message may run twice). A permanent refusal (queue deleted, credentials refused) stops it at once.

Ctrl-C (or SIGTERM) stops taking jobs and waits for running ones up to --grace; a second Ctrl-C hands them back at once. The exit code is then 128+n (130 for Ctrl-C).

With --json, stdout is a stream of NDJSON events, one a line ({"event":"completed"|"failed"|"retrying"|"dead"|"drained"|"error"|"reconnecting"|"reconnected"|"summary", …}), not the single JSON document other commands print.`
  static override examples = [
    {description: 'Print each message, acking it', command: '<%= config.bin %> <%= command.id %> emails --echo --url redis://127.0.0.1:6379'},
    {description: 'Run a handler module with 8 jobs at a time', command: '<%= config.bin %> <%= command.id %> emails --handler ./send-email.js --concurrency 8'},
    {description: 'Pipe each payload to a command until the queue is empty', command: '<%= config.bin %> <%= command.id %> images --exec "./resize.sh" --until-empty'},
    {description: 'Flaky, slow work to test a retry and DLQ setup', command: '<%= config.bin %> <%= command.id %> orders --echo --fail-rate 0.05 --delay-ms 10-50 --max-attempts 3'},
    {description: 'A demo on the embedded broker (no server): a producer and a flaky worker', command: '<%= config.bin %> <%= command.id %> --demo'},
    {description: 'Events as NDJSON for scripts', command: '<%= config.bin %> <%= command.id %> emails --echo --json --max-jobs 100'},
  ]

  static override args = {
    queue: Args.string({description: queueArgDescription('Queue to consume.', 'Not needed with --demo.')}),
  }

  static override flags = {
    handler: Flags.string({summary: 'Module (.js, .mjs, .cjs, .ts) whose default export handles a job.', exclusive: ['exec', 'echo'], helpGroup: 'HANDLER'}),
    exec: Flags.string({summary: 'Shell command run per job with the payload on stdin; exit 0 = success.', exclusive: ['handler', 'echo'], helpGroup: 'HANDLER'}),
    echo: Flags.boolean({summary: 'Print each message and ack it.', exclusive: ['handler', 'exec'], helpGroup: 'HANDLER'}),
    concurrency: Flags.integer({char: 'c', summary: 'Jobs running at once.', default: 1, min: 1}),
    prefetch: Flags.integer({summary: 'Messages leased ahead of free handlers (default: --concurrency).', min: 1}),
    ack: Flags.option({options: ['late', 'early'] as const, summary: 'Ack after the handler succeeds (late, at-least-once) or before it runs (early, at-most-once: no retries).', default: 'late' as const})(),
    'max-attempts': Flags.integer({summary: 'Deliveries before a failing message is dead-lettered.', default: 3, min: 1, helpGroup: 'RETRY'}),
    'on-exhausted': Flags.option({
      options: EXHAUSTED_POLICIES,
      summary: 'A message out of attempts: dead-letter (needs a dead-letter route), requeue (retry it forever), drop (discard it) or stop (put it back and stop). Default: dead-letter where the queue has a route, else stop.',
      helpGroup: 'RETRY',
    })(),
    backoff: Flags.string({summary: 'Delay before the first retry; doubles each attempt, with jitter.', default: '1s', helpGroup: 'RETRY'}),
    'backoff-max': Flags.string({summary: 'Longest retry delay.', default: '1m', helpGroup: 'RETRY'}),
    'job-timeout': Flags.string({summary: 'Fail a job that runs longer than this (its signal is aborted), e.g. 30s.', helpGroup: 'RETRY'}),
    lease: Flags.string({summary: 'Lease asked of the broker; extended while a job runs where the broker can.', default: '30s'}),
    'reconnect-timeout': Flags.string({summary: 'How long to wait for a broker that went away before giving up (exit 3); 0 = at once.', default: '60s'}),
    'max-jobs': Flags.integer({summary: 'Stop after this many jobs.', min: 1, helpGroup: 'STOP'}),
    'until-empty': Flags.boolean({summary: 'Stop once nothing is waiting, delayed or running.', helpGroup: 'STOP'}),
    grace: Flags.string({summary: 'On Ctrl-C/SIGTERM, wait this long for running jobs before handing them back.', default: '30s', helpGroup: 'STOP'}),
    'fail-rate': Flags.string({summary: 'Fail this fraction of jobs on purpose (0..1), to test retries and DLQs.', helpGroup: 'SIMULATE'}),
    'delay-ms': Flags.string({summary: 'Each job takes this long: ms or a range, e.g. 10-50.', helpGroup: 'SIMULATE'}),
    demo: Flags.boolean({summary: 'Run on the embedded memory broker with a built-in producer (no server needed).', helpGroup: 'SIMULATE'}),
    create: Flags.boolean({summary: 'Make the queue when it does not exist yet (otherwise a missing queue is exit 4 and nothing is created).'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (flags.demo && (flags.url || flags.context)) throw new UsageError('--demo runs on the embedded memory broker — drop --url/--context, or drop --demo to work a real queue')
    const queue = args.queue ?? (flags.demo ? 'demo' : undefined)
    if (!queue?.trim()) throw new UsageError('no queue given — name the queue to work, e.g. `queue work emails --echo` (or try `queue work --demo`)')
    const options = this.workerOptions()
    const graceMs = parseDuration(flags.grace, '--grace')
    const echo = flags.echo || (flags.demo && !flags.handler && !flags.exec)
    const handler = await this.handler(echo)
    const broker = flags.demo ? await this.openBroker({url: 'memory://'}) : await this.openBroker()
    const json = this.jsonEnabled()
    const session = new WorkSession({
      broker, queue, handler, options, graceMs,
      create: flags.create || flags.demo,
      demo: flags.demo,
      output: {json, echo, color: colorEnabled(this.io.err), out: this.io.out, err: this.io.err},
    })
    const shutdown = handleShutdown({
      onSignal: (signal, count) => {
        if (json) return
        this.io.err.write(
          count === 1
            ? `\n${signal}: finishing ${session.runningJobs} running job(s) (up to --grace ${formatDuration(graceMs)}); again to stop now\n`
            : `\n${signal} again: handing running jobs back\n`,
        )
      },
    })
    try {
      await session.run({stop: shutdown.graceful, force: shutdown.force})
    } finally {
      shutdown.dispose()
    }
    if (shutdown.exitCode !== undefined) this.exit(shutdown.exitCode)
    return undefined
  }

  /** The worker's options from the flags (--demo: quicker retries). */
  private workerOptions(): WorkerOptions {
    const {flags} = this
    const backoff = {initialMs: parseDuration(flags.backoff, '--backoff'), maxMs: parseDuration(flags['backoff-max'], '--backoff-max')}
    return {
      concurrency: flags.concurrency,
      prefetch: flags.prefetch,
      ack: flags.ack,
      maxAttempts: flags['max-attempts'],
      backoff: flags.demo && flags.backoff === '1s' ? {initialMs: 200, maxMs: 2000} : backoff,
      timeoutMs: flags['job-timeout'] ? parseDuration(flags['job-timeout'], '--job-timeout') : undefined,
      leaseMs: parseDuration(flags.lease, '--lease'),
      maxJobs: flags['max-jobs'],
      // the broker's counts decide; the wait only spares a stats call at every refill's idle moment
      untilEmptyIdleMs: flags['until-empty'] ? 50 : undefined,
      reconnectTimeoutMs: parseDuration(flags['reconnect-timeout'], '--reconnect-timeout'),
      onExhausted: flags['on-exhausted'],
    }
  }

  /** What runs each job: --handler, --exec or --echo, with --fail-rate and --delay-ms around it. */
  private async handler(echo: boolean): Promise<JobHandler> {
    const {flags} = this
    const failRate = flags['fail-rate'] !== undefined ? parseFailRate(flags['fail-rate']) : flags.demo ? 0.1 : undefined
    const delayMs = flags['delay-ms'] !== undefined ? parseDelayRange(flags['delay-ms']) : flags.demo ? ([20, 200] as [number, number]) : undefined
    let handler: JobHandler
    if (flags.handler) handler = await loadHandlerFile(flags.handler)
    else if (flags.exec) handler = execHandler(flags.exec)
    else if (echo) handler = () => undefined
    else throw new UsageError('choose what runs each job: --handler ./file.js, --exec "command" or --echo')
    return simulate(handler, {failRate, delayMs})
  }
}
