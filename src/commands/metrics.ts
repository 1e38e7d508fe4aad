import {createServer, type Server} from 'node:http'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {getContext, loadConfig} from '../services/config.js'
import {contextConnection, resolveConnection, type ResolvedConnection} from '../services/connection.js'
import {connectionSettings, openTarget, type ConnectionFlagValues} from '../services/targets.js'
import {ConnectionError, UsageError} from '../kernel/errors.js'
import {MetricsCollector, type MetricsTarget} from '../services/ops/metrics-collector.js'
import {createExposition} from '../services/ops/metrics-exposition.js'
import {redactUrl} from '../kernel/redact.js'
import {handleShutdown} from '../cli/signals.js'
import {parseDuration} from '../kernel/units.js'
import {safeLine, safeOutput} from '../kernel/terminal.js'

export default class Metrics extends BaseCommand<typeof Metrics> {
  static override completeArgs = 'contexts' as const
  static override summary = 'Serve Prometheus metrics for the queues of one or more brokers.'
  static override description = `Polls each broker in the background (every --interval, each poll limited to --poll-timeout) and serves the last values at /metrics: messages by state, oldest message age, consumers and rates per queue and broker. A scrape never waits on a broker: a slow or unreachable one keeps its last values and shows queuectl_broker_stale 1 and queuectl_broker_data_age_seconds.

Name contexts as arguments to watch several brokers at once (each is a broker label); --url adds one more. --once prints one exposition and exits.`
  static override examples = [
    {description: 'The current context, on the default port', command: '<%= config.bin %> <%= command.id %> --listen 127.0.0.1:9464'},
    {description: 'Two contexts and a URL', command: '<%= config.bin %> <%= command.id %> prod staging --url redis://127.0.0.1:6379'},
    {description: 'Named queues on RabbitMQ without the management API', command: '<%= config.bin %> <%= command.id %> --url amqp://127.0.0.1:5672/ --queue emails --queue orders'},
    {description: 'One exposition on stdout (cron, node_exporter textfile)', command: '<%= config.bin %> <%= command.id %> --once > queues.prom'},
  ]

  static override strict = false
  static override args = {}

  static override flags = {
    listen: Flags.string({summary: 'Address to serve on (host:port).', default: '127.0.0.1:9464'}),
    interval: Flags.string({summary: 'How often to poll each broker.', default: '15s'}),
    'poll-timeout': Flags.string({summary: 'Give up on a poll after this long (the broker is then marked stale).', default: '10s'}),
    queue: Flags.string({summary: 'Only these queues (repeatable); needed where the broker cannot list its queues.', multiple: true}),
    once: Flags.boolean({summary: 'Poll once, print the exposition to stdout and exit.'}),
  }

  async run(): Promise<unknown> {
    const {flags} = this
    const ctor = this.ctor as typeof Metrics
    const {argv} = await this.parse({flags: ctor.flags, baseFlags: ctor.baseFlags, enableJsonFlag: ctor.enableJsonFlag, args: {}, strict: false})
    const contexts = (argv as string[]).filter((a) => a.trim() !== '')
    const intervalMs = Math.max(100, parseDuration(flags.interval, '--interval'))
    const pollTimeoutMs = Math.max(100, parseDuration(flags['poll-timeout'], '--poll-timeout'))
    const listen = parseListen(flags.listen)
    const targets = await this.targets(contexts, flags.queue ?? [])

    const collector = new MetricsCollector(targets, intervalMs, pollTimeoutMs)
    const exposition = await createExposition(collector, intervalMs + pollTimeoutMs)
    if (flags.once) {
      await collector.pollOnce()
      await collector.stop()
      const text = await exposition.render()
      // on a terminal, a queue name's control characters are shown escaped; piped, the exposition is exact
      this.io.out.write(this.io.out.isTTY ? safeOutput(text) : text)
      const failed = [...collector.snapshots].filter(([, s]) => s.error !== undefined)
      for (const [label, s] of failed) this.io.err.write(`warning: ${safeLine(`${label}: ${s.error}`)}\n`)
      if (failed.length === targets.length) throw new ConnectionError(`no broker answered: ${failed.map(([label, s]) => `${label}: ${s.error}`).join('; ')}`)
      return undefined
    }

    const shutdown = handleShutdown()
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, {allow: 'GET, HEAD'}).end()
      } else if (path === '/metrics') {
        exposition.render().then(
          (text) => res.writeHead(200, {'content-type': exposition.contentType}).end(text),
          (error: Error) => res.writeHead(500, {'content-type': 'text/plain'}).end(`${error.message}\n`),
        )
      } else if (path === '/healthz') {
        res.writeHead(200, {'content-type': 'text/plain'}).end('ok\n')
      } else {
        res.writeHead(404, {'content-type': 'text/html'}).end('<a href="/metrics">/metrics</a>\n')
      }
    })
    try {
      await listenOn(server, listen)
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : listen.port
      this.io.err.write(`serving metrics for ${targets.map((t) => t.label).join(', ')} on http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}/metrics (Ctrl-C to stop)\n`)
      // serving starts at once; the first round of polls fills the values (stale until then)
      const started = collector.start()
      await new Promise<void>((resolve) => shutdown.graceful.addEventListener('abort', () => resolve(), {once: true}))
      await started.catch(() => {})
    } finally {
      server.close()
      server.closeAllConnections()
      await collector.stop()
      shutdown.dispose()
    }
    if (shutdown.exitCode !== undefined) this.exit(shutdown.exitCode)
    return undefined
  }

  /** One target per context named, plus --url / --context, else the usual resolution. */
  private async targets(contexts: string[], queues: string[]): Promise<MetricsTarget[]> {
    const flags = this.flags
    const timeoutMs = Math.min(parseDuration(flags.timeout ?? '5s', '--timeout'), parseDuration(flags['poll-timeout'], '--poll-timeout'))
    const settings = connectionSettings(flags as unknown as ConnectionFlagValues, timeoutMs)
    const resolved: {label: string; r: ResolvedConnection}[] = []
    const config = contexts.length > 0 || flags.context ? await loadConfig() : undefined
    for (const name of [...contexts, ...(flags.context ? [flags.context] : [])]) {
      resolved.push({label: name, r: contextConnection(getContext(config!, name))})
    }
    if (flags.url) resolved.push({label: redactUrl(flags.url), r: {url: flags.url, source: 'flag'}})
    if (resolved.length === 0) {
      const r = await resolveConnection({})
      resolved.push({label: r.source === 'current-context' ? 'current-context' : redactUrl(r.url), r})
    }
    const labels = new Set<string>()
    return resolved.map(({label, r}) => {
      if (labels.has(label)) throw new UsageError(`the broker "${label}" is named twice — name each context once`)
      labels.add(label)
      return {
        label,
        queues,
        open: () => openTarget(r, settings),
      }
    })
  }
}

function parseListen(text: string): {host: string; port: number} {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim())
  const port = Number(m?.[3])
  if (!m || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--listen "${text}" is not host:port — write it like 127.0.0.1:9464 (or 0.0.0.0:9464 to serve other machines)`)
  }
  return {host: m[1] ?? (m[2] || '127.0.0.1'), port}
}

function listenOn(server: Server, at: {host: string; port: number}): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(`${at.host}:${at.port} is already in use — pick another port with --listen`)
          : new UsageError(`cannot listen on ${at.host}:${at.port}: ${error.message}`),
      ),
    )
    server.listen(at.port, at.host, () => resolve())
  })
}
