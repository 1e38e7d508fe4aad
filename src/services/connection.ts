// Which broker a command talks to: --url > --context > QUEUE_URL > the current context > a fallback
// (memory:// for commands that can run without a server) > a clear error.
import type {Broker, BrokerOptions} from '../broker/contract.js'
import {ConnectionError, UsageError, isUserError} from '../kernel/errors.js'
import {getContext, loadConfig} from './config.js'
import {redactText} from '../kernel/redact.js'
import {formatDuration} from '../kernel/units.js'

export interface ConnectionFlags {
  url?: string
  context?: string
  timeoutMs: number
  mgmtUrl?: string
  endpoint?: string
  tlsCa?: string
  tlsInsecure?: boolean
}

export interface ResolvedConnection {
  url: string
  source: 'flag' | 'context' | 'env' | 'current-context' | 'default'
  mgmtUrl?: string
}

export async function resolveConnection(
  flags: Pick<ConnectionFlags, 'url' | 'context'>,
  fallback?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedConnection> {
  if (flags.url) return {url: flags.url, source: 'flag'}
  if (flags.context) {
    const context = getContext(await loadConfig(), flags.context)
    return {url: context.url, source: 'context', mgmtUrl: context.mgmtUrl}
  }
  if (env.QUEUE_URL) return {url: env.QUEUE_URL, source: 'env'}
  const config = await loadConfig()
  if (config.currentContext && config.contexts[config.currentContext]) {
    const context = config.contexts[config.currentContext]!
    return {url: context.url, source: 'current-context', mgmtUrl: context.mgmtUrl}
  }
  if (fallback) return {url: fallback, source: 'default'}
  throw new UsageError(
    'no broker given — pass --url redis://127.0.0.1:6379 (or amqp://, sqs://, memory://), set QUEUE_URL, or add a context with `queue context add NAME URL`',
  )
}

export function brokerOptions(flags: ConnectionFlags, resolved?: ResolvedConnection): BrokerOptions {
  return {
    timeoutMs: flags.timeoutMs,
    mgmtUrl: flags.mgmtUrl ?? resolved?.mgmtUrl,
    endpoint: flags.endpoint,
    tls: flags.tlsCa || flags.tlsInsecure ? {caFile: flags.tlsCa, insecure: flags.tlsInsecure} : undefined,
  }
}

/** Connects within the timeout, turning whatever the driver threw into one ConnectionError line. */
export async function connectWithin(broker: Broker, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConnectionError(
            `could not connect to ${broker.displayUrl} within ${formatDuration(timeoutMs)} — is the broker running and reachable? (raise --timeout if it is slow)`,
          ),
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
