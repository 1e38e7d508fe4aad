import {readFile, writeFile} from 'node:fs/promises'
import {randomBytes} from 'node:crypto'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {CheckFailedError, UsageError} from '../kernel/errors.js'
import {colorEnabled, ProgressLine} from '../kernel/output.js'
import {handleShutdown} from '../cli/signals.js'
import {formatDuration, parseDuration} from '../kernel/units.js'
import {checkPublishOptions, planBench} from '../loadgen/plan.js'
import {failedAssertions, parseAssertion, renderComparison, renderResult} from '../loadgen/report.js'
import {safeOutput} from '../kernel/terminal.js'

export default class Bench extends BaseCommand<typeof Bench> {
  static override summary = 'Load-test a queue end to end: throughput, latency percentiles, lost and duplicated messages.'
  static override description = `Producers enqueue numbered messages and consumers process them with the embedded worker runtime; every message's latency (send → processed) goes into an HDR histogram and every sequence number is checked off, so the report proves none was lost or processed twice.

With no --url (and no QUEUE_URL or context) it runs on the embedded memory broker: no server needed.

Closed loop (default): producers keep at most --inflight messages unprocessed and send as fast as the consumers allow. Open loop (--rate): messages are sent on a schedule, and latency counts from each message's *intended* send time, so a stalled broker shows in the tail instead of slowing the producer down (coordinated omission, as wrk2 and k6's arrival-rate executors handle it).

A broker that goes away mid-run (restart, network blip) is waited for, up to --reconnect-timeout (default 60s): consumers subscribe again, producers send the batch the broker did not confirm again (so a message may arrive twice: counted under duplicates, never lost); a longer outage counts what was not sent and carries on.

The bench queue (queuectl-bench-RUNID) is deleted at the end unless --keep. Ctrl-C stops early and prints a report marked PARTIAL (exit 130). --assert thresholds exit 1 when one fails. Several machines: start the same command with --agents N and one --run-id on each; they meet through the broker under test and the first (by id) prints the merged report.`
  static override examples = [
    {description: "A 5-second run on the current context's broker, or on the embedded one (no server) when there is none", command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Redis, 100k messages of 1 KiB, 4 consumers of 16', command: '<%= config.bin %> <%= command.id %> --url redis://127.0.0.1:6379 --count 100000 --size 1KiB --consumers 4 --concurrency 16'},
    {description: 'Open loop at 5000/s for 30 s, failing CI on a slow tail', command: '<%= config.bin %> <%= command.id %> --rate 5000/s --duration 30s --assert "p99<50ms" --assert "throughput>4900/s"'},
    {description: 'A stepped rate: 1000/s to 10000/s, +1000/s every 10 s', command: '<%= config.bin %> <%= command.id %> --url amqp://guest:guest@127.0.0.1:5672 --rate 1000:10000:1000/10s'},
    {description: 'Save a result and compare two', command: '<%= config.bin %> <%= command.id %> --out before.json && <%= config.bin %> <%= command.id %> --compare before.json after.json'},
    {description: 'Three agents on three machines, merged by one', command: '<%= config.bin %> <%= command.id %> --url redis://queue-host:6379 --agents 3 --run-id nightly-42'},
  ]

  static override flags = {
    count: Flags.integer({char: 'n', summary: 'Send this many messages (instead of --duration).', min: 1, helpGroup: 'LOAD'}),
    duration: Flags.string({char: 'd', summary: 'Produce for this long (default 5s; with a stepped --rate, its length).', helpGroup: 'LOAD'}),
    rate: Flags.string({summary: 'Open loop: arrival rate, 5000/s, or stepped from:to:step/every, e.g. 1000:10000:1000/10s.', helpGroup: 'LOAD'}),
    producers: Flags.integer({summary: 'Concurrent producers.', default: 1, min: 1, helpGroup: 'LOAD'}),
    consumers: Flags.integer({summary: 'Consumers (worker runtimes, one subscription each).', default: 1, min: 1, helpGroup: 'LOAD'}),
    concurrency: Flags.integer({char: 'c', summary: 'Handlers running at once per consumer.', default: 64, min: 1, helpGroup: 'LOAD'}),
    prefetch: Flags.integer({summary: 'Leases per consumer ahead of free handlers (default: --concurrency).', min: 1, helpGroup: 'LOAD'}),
    inflight: Flags.integer({summary: 'Closed loop: most messages sent but not yet processed.', min: 1, helpGroup: 'LOAD'}),
    batch: Flags.integer({summary: 'Messages per enqueue call.', default: 100, min: 1, helpGroup: 'LOAD'}),
    size: Flags.string({summary: 'Message size, 16-byte header included (128B, 4KiB…).', default: '128B', exclusive: ['payload'], helpGroup: 'MESSAGE'}),
    payload: Flags.string({summary: 'Send these bytes (after the 16-byte bench header) as every message.', helpGroup: 'MESSAGE'}),
    persistent: Flags.boolean({summary: 'Ask the broker to write messages to disk (--no-persistent: ask it not to); refused where the broker cannot honour it.', allowNo: true, helpGroup: 'MESSAGE'}),
    confirms: Flags.boolean({summary: 'Wait for the broker to confirm each message (--no-confirms: fire and forget); refused where the broker cannot honour it.', allowNo: true, helpGroup: 'MESSAGE'}),
    'work-ms': Flags.integer({summary: 'Simulated handler work per message, ms.', default: 0, min: 0, helpGroup: 'MESSAGE'}),
    warmup: Flags.string({summary: 'Produce this long first without recording latency (JIT and connection warm-up); the messages still count for lost/duplicated.', default: '0s', helpGroup: 'LOAD'}),
    drain: Flags.string({summary: 'After producing stops, wait this long at most for the rest to be processed.', default: '10s', helpGroup: 'LOAD'}),
    'reconnect-timeout': Flags.string({summary: 'How long producers and consumers wait for a broker that went away before giving up; 0 = at once.', default: '60s', helpGroup: 'RUN'}),
    queue: Flags.string({summary: 'Queue to use (default queuectl-bench-RUNID). A queue that already existed is never deleted.', helpGroup: 'RUN'}),
    'run-id': Flags.string({summary: 'Name of this run; every agent of a multi-agent run passes the same one.', helpGroup: 'RUN'}),
    agents: Flags.integer({summary: 'Agents (processes, possibly on other machines) taking part; they coordinate through the broker.', default: 1, min: 1, max: 1000, helpGroup: 'RUN'}),
    keep: Flags.boolean({summary: 'Keep the bench queue(s) afterwards.', helpGroup: 'RUN'}),
    out: Flags.string({char: 'o', summary: 'Also write the full result (JSON, with the encoded histogram) to this file.', helpGroup: 'REPORT'}),
    assert: Flags.string({summary: 'Threshold, e.g. "p99<50ms", "throughput>5000/s", "lost=0" (repeatable); exit 1 if one fails.', multiple: true, helpGroup: 'REPORT'}),
    compare: Flags.string({summary: 'Print two saved results side by side with ratios (no run): --compare a.json b.json.', multiple: true, helpGroup: 'REPORT'}),
  }

  async run(): Promise<unknown> {
    const {flags} = this
    const json = this.jsonEnabled()
    if (flags.compare) return this.compare(flags.compare, json)
    const assertions = (flags.assert ?? []).map(parseAssertion)
    const body = flags.payload === undefined ? undefined : await readFile(flags.payload).catch(() => {
      throw new UsageError(`cannot read --payload ${flags.payload} — give a file whose bytes each message carries`)
    })
    const plan = planBench({
      count: flags.count, duration: flags.duration, rate: flags.rate, producers: flags.producers, consumers: flags.consumers,
      concurrency: flags.concurrency, prefetch: flags.prefetch, inflight: flags.inflight, batch: flags.batch, size: flags.size,
      payloadBytes: body?.length, workMs: flags['work-ms'], drain: flags.drain, warmup: flags.warmup, persistent: flags.persistent, confirms: flags.confirms,
    })
    if (flags.agents > 1 && !flags['run-id']) {
      throw new UsageError(`--agents ${flags.agents} needs a --run-id that every agent shares, e.g. --run-id nightly-42`)
    }
    const reconnectTimeoutMs = parseDuration(flags['reconnect-timeout'], '--reconnect-timeout')
    const runId = flags['run-id'] ?? randomBytes(4).toString('hex')
    if (!/^[\w.-]{1,64}$/.test(runId)) throw new UsageError(`--run-id "${runId}" may use only letters, digits, "-", "_" and "." (up to 64)`)

    const broker = await this.openBroker({fallbackUrl: 'memory://'})
    const caps = await broker.capabilitiesOf()
    checkPublishOptions(plan, caps, broker.displayUrl)
    if (flags.agents > 1 && caps.inProcess) {
      throw new UsageError(`--agents ${flags.agents} needs a broker every agent can reach — memory:// lives inside one process; give --url redis://…, amqp://… or sqs://…`)
    }
    const {benchOnBroker} = await import('../loadgen/session.js')
    const color = colorEnabled(this.io.err)
    const progress = json ? undefined : new ProgressLine(this.io.err)
    const shutdown = handleShutdown({
      onSignal: (signal, n) => {
        if (json) return
        progress?.done()
        this.io.err.write(n === 1 ? `\n${signal}: stopping early — draining, then a partial report (again to stop now)\n` : `\n${signal} again: stopping now\n`)
      },
    })
    let result
    try {
      result = await benchOnBroker({
        broker, plan, runId, body, agents: flags.agents, queue: flags.queue, keep: flags.keep, reconnectTimeoutMs,
        stop: shutdown.graceful, force: shutdown.force,
        onStatus: (line) => progress?.update(line, true),
        onNote: (line) => !json && this.io.err.write(`${safeOutput(line)}\n`),
        color,
      })
    } finally {
      progress?.done()
      shutdown.dispose()
    }
    if (flags.out) await writeFile(flags.out, `${JSON.stringify(result, null, 2)}\n`)
    if (!result) return undefined // a non-leading agent: the leader prints the merged report
    if (!json) {
      this.io.out.write(`${safeOutput(renderResult(result, colorEnabled(this.io.out)))}\n`)
      if (flags.out) this.io.err.write(`result written to ${flags.out}\n`)
    }
    if (shutdown.exitCode !== undefined) {
      if (json) this.logJson(result)
      this.exit(shutdown.exitCode)
    }
    const failures = failedAssertions(result, assertions)
    if (failures.length > 0) this.fail(new CheckFailedError(`${failures.join('; ')} (in ${formatDuration(result.durationMs)})`), result)
    return result
  }

  private async compare(files: string[], json: boolean): Promise<unknown> {
    if (files.length !== 2) throw new UsageError(`--compare takes two result files (from --out), got ${files.length}: --compare before.json after.json`)
    const {loadResult} = await import('../loadgen/session.js')
    const [a, b] = await Promise.all(files.map(loadResult))
    if (json) return {a, b}
    this.io.out.write(`${safeOutput(renderComparison(a!, b!, ['a', 'b'], colorEnabled(this.io.out)))}\n`)
    return undefined
  }
}
