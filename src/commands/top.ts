import {Flags} from '@oclif/core'
import type {Broker, QueueStats} from '../broker/contract.js'
import {BaseCommand} from '../cli/base-command.js'
import {loadConfig} from '../services/config.js'
import {contextConnection, type ResolvedConnection} from '../services/connection.js'
import {UsageError} from '../kernel/errors.js'
import {colorEnabled} from '../kernel/output.js'
import {redactText, redactUrl} from '../kernel/redact.js'
import {handleShutdown} from '../cli/signals.js'
import {formatDuration, parseDuration} from '../kernel/units.js'
import {firstFrame} from '../tui/first-frame.js'
import {queueStats} from '../services/stats.js'
import {RetryingBroker} from '../services/retrying-broker.js'
import {parseBrokerUrl} from '../adapters/registry.js'

interface Target {
  /** Absent: the broker the flags, QUEUE_URL or the current context point at. */
  connection?: ResolvedConnection
  label: string
}

// --url is redeclared as repeatable, which oclif's inferred type of the merged flags cannot express
interface TopFlags {
  url?: string[]
  'all-contexts': boolean
  interval: string
  once: boolean
  queue?: string[]
}

interface BrokerSnapshotJson {
  broker: string
  label: string
  queues: QueueStats[]
  latencyMs?: number
  error?: string
}

export default class Top extends BaseCommand<typeof Top> {
  static override summary = 'Live view of every queue: depth, rates, backlog age; drill down, peek, purge, retry.'
  static override description = `Refreshes the counts of every queue each --interval. Keys as in k9s: ? help, / filter, : jump to a queue, s sort, Enter open a queue, Esc back, p pause refreshing, q quit. In a queue: Tab picks the state to peek at, Enter shows a payload, D purges, R retries dead messages, M moves waiting messages, P pauses the queue where the broker can; destructive keys ask first.

Several brokers at once with --url repeated, or every saved context with --all-contexts. A broker that stops answering is shown as stale with its error, keeps its last values, and recovers by itself.

Not on a terminal, or with --once: prints one snapshot table and exits (--json: the same as JSON).`
  static override examples = [
    {description: 'Watch a Redis server', command: '<%= config.bin %> <%= command.id %> --url redis://127.0.0.1:6379'},
    {description: 'Two brokers at once, refreshed every 2 seconds', command: '<%= config.bin %> <%= command.id %> --url redis://127.0.0.1:6379 --url amqp://guest:guest@127.0.0.1:5672 --interval 2s'},
    {description: 'Every saved context', command: '<%= config.bin %> <%= command.id %> --all-contexts'},
    {description: 'One snapshot for a CI log, as JSON', command: '<%= config.bin %> <%= command.id %> --once --json'},
  ]

  static override flags = {
    // several brokers at once: replaces the base command's single --url
    url: Flags.string({
      char: 'u',
      summary: 'Broker URL; repeat it to watch several brokers at once.',
      multiple: true,
      helpGroup: 'CONNECTION',
    }),
    'all-contexts': Flags.boolean({summary: 'Watch the broker of every saved context.', exclusive: ['url', 'context'], helpGroup: 'CONNECTION'}),
    interval: Flags.string({char: 'i', summary: 'How often to refresh.', default: '1s'}),
    once: Flags.boolean({summary: 'Print one snapshot table and exit (the default when stdout is not a terminal).'}),
    queue: Flags.string({
      char: 'q',
      summary: 'Watch only these queues (repeatable); needed where the broker cannot list its queues.',
      multiple: true,
    }),
  }

  async run(): Promise<unknown> {
    const flags = this.flags as unknown as TopFlags
    const live = !flags.once && !this.jsonEnabled() && Boolean(this.io.out.isTTY && this.io.in.isTTY)
    const color = colorEnabled(this.io.out)
    if (live) {
      // Ink draws only the final frame when CI is set (is-in-ci, read as Ink loads); a live screen
      // on a real terminal must not go blank because a CI variable leaked into the shell
      for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) delete process.env[key]
      // FORCE_COLOR=0 would make Ink's chalk drop bold and inverse too (the selected row would not
      // show): colours are left out by the components instead (`color`)
      if (!color) delete process.env.FORCE_COLOR
    }
    // start loading Ink at once, in parallel with parsing and connecting: it is most of the start-up
    const tui = live ? import('../tui/app.js') : undefined
    tui?.catch(() => {})
    const intervalMs = parseDuration(flags.interval, '--interval')
    if (intervalMs < 100) throw new UsageError(`--interval ${flags.interval} is too short — give 100ms or more, e.g. --interval 1s`)

    const targets = await this.targets(flags)
    const labels = targets.map((t) => t.label)
    const opening = this.openAll(targets)
    if (!live) return this.snapshot(await opening, labels, flags.queue)

    // the screen shows "connecting…" at once, painted by hand while Ink loads, and stays up
    // during the handshakes instead of waiting for the slowest
    opening.catch(() => {})
    const displayUrls = targets.map((t) => (t.connection ? redactUrl(t.connection.url) : ''))
    process.stdout.write(firstFrame({urls: displayUrls, color, columns: process.stdout.columns, rows: process.stdout.rows}))
    // keys typed meanwhile (q) wait for Ink instead of being echoed onto the frame
    process.stdin.setRawMode(true)
    let app: Awaited<NonNullable<typeof tui>>
    try {
      app = await tui!
    } catch (error) {
      process.stdin.setRawMode(false)
      process.stdout.write('\u001B[?1049l')
      throw error
    }
    const shutdown = handleShutdown({forceExitAfterMs: 2000})
    try {
      await app.runTop({brokers: opening, displayUrls, labels, intervalMs, queues: flags.queue, signal: shutdown.graceful, color, screenEntered: true})
    } finally {
      shutdown.dispose()
      await abandonOpening(opening, () => shutdown.exitCode ?? process.exitCode ?? 0)
    }
    if (shutdown.exitCode !== undefined) this.exit(shutdown.exitCode)
    return undefined
  }

  private async targets(flags: {url?: string[]; 'all-contexts'?: boolean}): Promise<Target[]> {
    if (flags['all-contexts']) {
      const config = await loadConfig()
      const names = Object.keys(config.contexts)
      if (names.length === 0) throw new UsageError('--all-contexts found no saved contexts — add one with `queue context add NAME URL`, or pass --url')
      // each context with its own options (its management API URL), not just its URL
      return names.map((name) => ({connection: contextConnection(config.contexts[name]!), label: name}))
    }
    const urls = flags.url ?? []
    if (urls.length === 0) return [{label: ''}]
    return urls.map((url) => ({connection: {url, source: 'flag' as const}, label: shortLabel(url)}))
  }

  /** Opens every broker; with several, one that cannot be reached yet is retried on each refresh. */
  private async openAll(targets: Target[]): Promise<Broker[]> {
    const results = await Promise.allSettled(targets.map((t) => this.openBroker({connection: t.connection})))
    const failed = results.filter((r) => r.status === 'rejected')
    if (failed.length === results.length || (targets.length === 1 && failed.length > 0)) throw (failed[0] as PromiseRejectedResult).reason
    return results.map((r, i) => {
      if (r.status === 'fulfilled') return r.value
      const connection = targets[i]!.connection!
      return new RetryingBroker(redactUrl(connection.url), parseBrokerUrl(connection.url).protocol.slice(0, -1), r.reason, () => this.openBroker({connection}))
    })
  }

  private async snapshot(brokers: Broker[], labels: string[], queues: string[] | undefined): Promise<{brokers: BrokerSnapshotJson[]}> {
    const out = await Promise.all(
      brokers.map(async (broker, i): Promise<BrokerSnapshotJson> => {
        const started = Date.now()
        const base = {broker: broker.displayUrl, label: labels[i] || broker.displayUrl}
        if (broker instanceof RetryingBroker && broker.error) {
          return {...base, queues: [], error: redactText(String((broker.error as Error)?.message ?? broker.error))}
        }
        try {
          const {stats, incomplete} = await queueStats(broker, {queues, workers: true})
          if (incomplete) this.io.err.write(`note: ${broker.displayUrl}: ${incomplete}\n`)
          return {...base, queues: stats, latencyMs: Date.now() - started}
        } catch (error) {
          if (brokers.length === 1) throw error
          return {...base, queues: [], error: redactText(String((error as Error)?.message ?? error))}
        }
      }),
    )
    if (!this.jsonEnabled()) {
      // the table formatter (cli-table3) only on this path: the live screen does not need it
      const [{renderQueueTable}, {paint}] = await Promise.all([import('../services/render.js'), import('../kernel/output.js')])
      out.forEach((b, i) => {
        if (i > 0) this.log('')
        // a context is named by its name (--all-contexts), the URL beside it
        const name = b.label && b.label !== b.broker ? `${b.label}  ${b.broker}` : b.broker
        const title = `${name}${b.latencyMs === undefined ? '' : `  (${formatDuration(b.latencyMs)})`}`
        if (brokers.length > 1 || b.error) this.log(paint(title, 'bold'))
        if (b.error) this.logToStderr(`error: ${b.error}`)
        else this.log(b.queues.length === 0 ? `no queues on ${b.broker}` : renderQueueTable(b.queues))
      })
    }
    return {brokers: out}
  }
}

/**
 * Quit while a broker is still connecting (a black-holed or slow second URL, or a reconnect in
 * flight): the handshake is not waited for. What opens late is closed when it does, and a process
 * kept alive only by such handshakes ends a moment later instead of when they time out.
 */
async function abandonOpening(opening: Promise<Broker[]>, exitCode: () => number | string, graceMs = 100): Promise<void> {
  // unref'd: it never keeps the process alive, it only ends one that the handshakes keep alive
  const exitSoon = (ms: number) => setTimeout(() => process.exit(exitCode()), ms).unref()
  let settled = false
  const done = opening.then(
    (brokers) => brokers,
    () => undefined,
  )
  await Promise.race([done.then(() => (settled = true)), new Promise((resolve) => setTimeout(resolve, graceMs))])
  if (settled) {
    // the opened brokers are closed by the command's finally; a reconnect may still be in flight
    exitSoon(250)
    return
  }
  void done.then((brokers) => Promise.allSettled((brokers ?? []).map((b) => b.close())))
  exitSoon(150)
}

/** scheme://host:port without credentials or path: enough to tell brokers apart in a column. */
function shortLabel(url: string): string {
  try {
    // parsed as the registry does: several seeds (nats://h1,h2) fold into the query first
    const u = parseBrokerUrl(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return redactUrl(url)
  }
}
