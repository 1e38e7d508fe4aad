// URL scheme → lazily imported adapter. Nothing else imports a broker SDK, so a command pays only
// for the transport it talks to.
import type {Broker, BrokerFactory, BrokerOptions} from '../broker/contract.js'
import {UsageError} from '../kernel/errors.js'
import {redactUrl, rememberSecrets} from '../kernel/redact.js'

const loaders: Record<string, () => Promise<BrokerFactory>> = {
  'memory:': async () => (await import('./memory/index.js')).createMemoryBroker,
  'redis:': async () => (await import('./redis/index.js')).createRedisBroker,
  'rediss:': async () => (await import('./redis/index.js')).createRedisBroker,
  'redis+cluster:': async () => (await import('./redis/index.js')).createRedisBroker,
  'amqp:': async () => (await import('./amqp/index.js')).createAmqpBroker,
  'amqps:': async () => (await import('./amqp/index.js')).createAmqpBroker,
  'sqs:': async () => (await import('./sqs/index.js')).createSqsBroker,
  'postgres:': async () => (await import('./postgres/index.js')).createPostgresBroker,
  'postgresql:': async () => (await import('./postgres/index.js')).createPostgresBroker,
}

export const SUPPORTED_SCHEMES = Object.keys(loaders).map((s) => s.slice(0, -1))

/** Parses a connection URL, or throws a UsageError that says what a good one looks like. */
export function parseBrokerUrl(raw: string): URL {
  const text = raw.trim()
  if (!text) throw new UsageError('the connection URL is empty — give one such as redis://127.0.0.1:6379 or memory://')
  let url: URL
  try {
    url = new URL(clusterSeeds(text))
  } catch {
    throw new UsageError(
      `"${redactUrl(text)}" is not a valid URL — write it as scheme://host:port, e.g. redis://127.0.0.1:6379, amqp://guest:***@127.0.0.1:5672/, sqs://?region=us-east-1 or memory://`,
    )
  }
  rememberSecrets(url)
  if (!(url.protocol in loaders)) {
    throw new UsageError(
      `unknown scheme "${url.protocol.slice(0, -1)}" in ${redactUrl(url)} — supported: ${SUPPORTED_SCHEMES.join(', ')}`,
    )
  }
  return url
}

// WHATWG URLs hold one host; redis+cluster://h1:p1,h2:p2 keeps the first as the host and the
// other seeds in ?seeds=h2:p2 (the Redis adapter reads both and shows the list again).
function clusterSeeds(text: string): string {
  const match = /^(redis\+cluster:\/\/(?:[^@/?#]*@)?)([^/?#]+)(.*)$/i.exec(text)
  if (!match || !match[2]!.includes(',')) return text
  const [first, ...rest] = match[2]!.split(',').filter(Boolean)
  const tail = match[3]!
  const hash = tail.indexOf('#')
  const [body, fragment] = hash >= 0 ? [tail.slice(0, hash), tail.slice(hash)] : [tail, '']
  return `${match[1]}${first}${body}${body.includes('?') ? '&' : '?'}seeds=${rest.join(',')}${fragment}`
}

/** Creates (but does not connect) the broker for a URL. */
export async function createBroker(raw: string | URL, options: BrokerOptions): Promise<Broker> {
  const url = typeof raw === 'string' ? parseBrokerUrl(raw) : raw
  const factory = await loaders[url.protocol]!()
  return factory(url, options)
}

/** Creates and connects; closes again if connecting fails. */
export async function openBroker(raw: string | URL, options: BrokerOptions): Promise<Broker> {
  const broker = await createBroker(raw, options)
  try {
    await broker.connect()
  } catch (error) {
    await broker.close().catch(() => {})
    throw error
  }
  return broker
}
