import {Args, Flags} from '@oclif/core'
import {offerCreate, refuse} from '../broker/capabilities.js'
import type {Broker, Capabilities} from '../broker/contract.js'
import {BaseCommand} from '../cli/base-command.js'
import {CheckFailedError, NotFoundError, UsageError, UserError, isUserError} from '../kernel/errors.js'
import {colorEnabled, ndjsonLine} from '../kernel/output.js'
import {handleShutdown} from '../cli/signals.js'
import {formatDuration, parseDuration} from '../kernel/units.js'
import {execHandler, loadHandlerFile, parseDelayRange, parseFailRate, simulate} from '../runtime/handlers.js'
import {attachWorkOutput, summaryLine} from '../runtime/work-output.js'
import {EXHAUSTED_POLICIES, Worker, type JobHandler} from '../runtime/worker.js'
import {safeLine} from '../kernel/terminal.js'
import {makeQueue} from '../services/ops/lifecycle.js'

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
    queue: Args.string({description: 'Queue to consume (on Redis: kind:name, e.g. bullmq:emails). Not needed with --demo.'}),
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
    const json = this.jsonEnabled()
    if (flags.demo && (flags.url || flags.context)) throw new UsageError('--demo runs on the embedded memory broker — drop --url/--context, or drop --demo to work a real queue')
    const queue = args.queue ?? (flags.demo ? 'demo' : undefined)
    if (!queue?.trim()) throw new UsageError('no queue given — name the queue to work, e.g. `queue work emails --echo` (or try `queue work --demo`)')
    const backoff = {initialMs: parseDuration(flags.backoff, '--backoff'), maxMs: parseDuration(flags['backoff-max'], '--backoff-max')}
    const options = {
      concurrency: flags.concurrency,
      prefetch: flags.prefetch,
      ack: flags.ack,
      maxAttempts: flags['max-attempts'],
      backoff: flags.demo && flags.backoff === '1s' ? {initialMs: 200, maxMs: 2000} : backoff,
      timeoutMs: flags['job-timeout'] ? parseDuration(flags['job-timeout'], '--job-timeout') : undefined,
      leaseMs: parseDuration(flags.lease, '--lease'),
      maxJobs: flags['max-jobs'],
      untilEmptyIdleMs: flags['until-empty'] ? 250 : undefined,
      reconnectTimeoutMs: parseDuration(flags['reconnect-timeout'], '--reconnect-timeout'),
      onExhausted: flags['on-exhausted'],
    }
    const graceMs = parseDuration(flags.grace, '--grace')
    const failRate = flags['fail-rate'] !== undefined ? parseFailRate(flags['fail-rate']) : flags.demo ? 0.1 : undefined
    const delayMs = flags['delay-ms'] !== undefined ? parseDelayRange(flags['delay-ms']) : flags.demo ? ([20, 200] as [number, number]) : undefined
    const echo = flags.echo || (flags.demo && !flags.handler && !flags.exec)

    let handler: JobHandler
    if (flags.handler) handler = await loadHandlerFile(flags.handler)
    else if (flags.exec) handler = execHandler(flags.exec)
    else if (echo) handler = () => undefined
    else throw new UsageError('choose what runs each job: --handler ./file.js, --exec "command" or --echo')
    handler = simulate(handler, {failRate, delayMs})

    const broker = flags.demo ? await this.openBroker({url: 'memory://'}) : await this.openBroker()
    // a queue not made yet gets what a new queue gets
    const caps = await broker.capabilitiesOf(queue).catch(() => broker.capabilitiesOf())
    // before the dead-letter check: a queue its library's own workers consume says so, not "no dead-letter route"
    if (!caps.consume) throw refuse('consume', `queue "${queue}" on ${broker.displayUrl}`, caps)
    if (flags['on-exhausted'] === 'dead-letter' && flags.ack === 'late') {
      if (!caps.deadLetter) {
        throw new UsageError(`--on-exhausted dead-letter: ${queue} on ${broker.displayUrl} has no dead-letter route (capability deadLetter: false) — give it one (a DLX, a redrive policy) or choose --on-exhausted requeue, drop or stop`)
      }
    }
    await queueToWork(broker, queue, flags.create || flags.demo, caps)
    const worker = new Worker(broker, queue, handler, options)
    const stopOutput = attachWorkOutput(worker, {json, echo, color: colorEnabled(process.stderr)})
    const stopProducer = flags.demo ? startDemoProducer(broker, queue) : () => {}
    const shutdown = handleShutdown({
      onSignal: (signal, count) => {
        if (json) return
        process.stderr.write(
          count === 1
            ? `\n${signal}: finishing ${worker.runningJobs} running job(s) (up to --grace ${formatDuration(graceMs)}); again to stop now\n`
            : `\n${signal} again: handing running jobs back\n`,
        )
      },
    })
    let graceTimer: NodeJS.Timeout | undefined
    shutdown.graceful.addEventListener('abort', () => {
      stopProducer()
      void worker.close()
      graceTimer = setTimeout(() => void worker.close(true), graceMs)
      graceTimer.unref()
    })
    shutdown.force.addEventListener('abort', () => void worker.close(true))
    let failure: Error | undefined
    worker.on('error', (e) => (failure = e.error))
    let kept: {id: string; reason: string} | undefined
    worker.on('dead', (e) => {
      if (e.outcome === 'kept') kept ??= {id: e.message.id, reason: e.reason}
    })
    try {
      await worker.start()
      const summary = await worker.finished
      stopProducer()
      stopOutput()
      if (json) process.stdout.write(`${ndjsonLine({event: 'summary', queue, ...summary, elapsedMs: Math.round(summary.elapsedMs)})}\n`)
      else process.stdout.write(`${safeLine(summaryLine(queue, summary))}\n`)
      if (summary.reason === 'error' && failure) {
        // keep a not-found (queue deleted) as exit 4; anything else is the connection's exit 3
        throw new UserError(`stopped working ${queue} on ${broker.displayUrl}: ${failure.message}`, isUserError(failure) && failure.exitCode === 4 ? 4 : 3)
      }
      if (summary.reason === 'exhausted' && kept) {
        throw new CheckFailedError(
          `stopped: message ${kept.id} ${kept.reason.split(',')[0]} and ${queue} has no dead-letter route, so it was put back on the queue — give the queue a dead-letter route, or choose --on-exhausted requeue (keep retrying) or drop (discard)`,
        )
      }
    } finally {
      clearTimeout(graceTimer)
      stopProducer()
      stopOutput()
      shutdown.dispose()
      await worker.close(true)
    }
    if (shutdown.exitCode !== undefined) this.exit(shutdown.exitCode)
    return undefined
  }
}

/** --demo: a steady trickle of fake jobs so there is something to watch. */
function startDemoProducer(broker: Broker, queue: string): () => void {
  let n = 0
  const timer = setInterval(() => {
    const batch = Array.from({length: 2}, () => ({payload: JSON.stringify({demo: ++n, to: `user${n}@example.com`}), contentType: 'application/json'}))
    void broker.enqueue(queue, batch).catch(() => {})
  }, 200)
  return () => clearInterval(timer)
}

/** A queue that does not exist is refused (a typo must leave nothing behind), or made when asked to. */
async function queueToWork(broker: Broker, queue: string, create: boolean, caps: Capabilities): Promise<void> {
  try {
    await broker.stats(queue)
  } catch (error) {
    if (!(error instanceof NotFoundError) || !create) {
      throw offerCreate(error, caps)
    }
    await makeQueue(broker, queue)
  }
}
