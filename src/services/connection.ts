// Which broker a command talks to: --url > --context > QUEUE_URL > the current context > a fallback
// (memory:// for commands that can run without a server) > a clear error.
import type {Broker, BrokerOptions} from '../broker/contract.js'
import {ConnectionError, UsageError, isUserError} from '../kernel/errors.js'
import {SUPPORTED_SCHEMES, TRANSPORTS} from '../adapters/registry.js'
import {wrongPortHint} from '../broker/descriptor.js'
import {getContext, loadConfig, type Context} from './config.js'
import {redactText} from '../kernel/redact.js'
import {formatDuration} from '../kernel/units.js'

export interface ConnectionFlags {
  url?: string
  context?: string
  timeoutMs: number
  tlsCa?: string
  tlsInsecure?: boolean
  /** The transports' connection options given on the command line, by option name (mgmt-url, endpoint…). */
  options?: Record<string, string | undefined>
}

export interface ResolvedConnection {
  url: string
  source: 'flag' | 'context' | 'env' | 'current-context' | 'default'
  /** A saved context's own transport options, used where the command line gives none. */
  options?: Record<string, string>
}

/** A saved context as a connection: its URL and its own transport options. */
export function contextConnection(context: Context, source: 'context' | 'current-context' = 'context'): ResolvedConnection {
  return {url: context.url, source, ...(context.options ? {options: context.options} : {})}
}

export async function resolveConnection(
  flags: Pick<ConnectionFlags, 'url' | 'context'>,
  fallback?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedConnection> {
  if (flags.url) return {url: flags.url, source: 'flag'}
  if (flags.context) return contextConnection(getContext(await loadConfig(), flags.context))
  if (env.QUEUE_URL) return {url: env.QUEUE_URL, source: 'env'}
  const config = await loadConfig()
  if (config.currentContext && config.contexts[config.currentContext]) {
    return contextConnection(config.contexts[config.currentContext]!, 'current-context')
  }
  if (fallback) return {url: fallback, source: 'default'}
  throw new UsageError(
    `no broker given — pass --url (${SUPPORTED_SCHEMES.map((s) => `${s}://`).join(', ')}), set QUEUE_URL, or add a context with \`queue context add NAME URL\``,
  )
}

export function brokerOptions(flags: ConnectionFlags, resolved?: ResolvedConnection): BrokerOptions {
  // a flag beats the context's own value, option by option
  const options: Record<string, string | undefined> = {...resolved?.options}
  for (const [name, value] of Object.entries(flags.options ?? {})) if (value !== undefined) options[name] = value
  return {
    timeoutMs: flags.timeoutMs,
    tls: flags.tlsCa || flags.tlsInsecure ? {caFile: flags.tlsCa, insecure: flags.tlsInsecure} : undefined,
    options,
  }
}

/**
 * No answer in the broker's protocol within the timeout: the broker is down or far, or the port is
 * another kind of server's (an HTTP or Redis port waits for more bytes and never answers).
 */
function connectTimeoutMessage(broker: Broker, timeoutMs: number): string {
  const server = TRANSPORTS.find((t) => t.name === broker.transport)?.server
  const within = `could not connect to ${broker.displayUrl} within ${formatDuration(timeoutMs)}`
  if (!server) return `${within} — is the broker running and reachable? (raise --timeout if it is slow)`
  return `${within}: no ${server.name} answer — is ${server.name} running and reachable, and ${wrongPortHint(server)} (raise --timeout if it is slow)`
}

/** Connects within the timeout, turning whatever the driver threw into one ConnectionError line. */
export async function connectWithin(broker: Broker, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConnectionError(connectTimeoutMessage(broker, timeoutMs)),
        ),
      timeoutMs,
    )
    timer.unref()
  })
  try {
    await Promise.race([broker.connect(), timeout])
  } catch (error) {
    await broker.close().catch(() => {})
    if (isUserError(error)) throw error
    throw new ConnectionError(`cannot connect to ${broker.displayUrl}: ${redactText(String((error as Error)?.message ?? error))}`)
  } finally {
    clearTimeout(timer)
  }
}
