// The transports queuectl knows: one descriptor each, one line per transport. A descriptor is data
// and a lazy import, so nothing else loads a broker SDK and a command pays only for the transport
// it talks to. Adding a transport: its folder, one line here, its dependency (CONTRIBUTING.md).
import type {Broker, BrokerOptions} from '../broker/contract.js'
import {guardBroker} from '../broker/kit/guard.js'
import type {CreateOption, TransportDescriptor, TransportOption} from '../broker/descriptor.js'
import {UsageError} from '../kernel/errors.js'
import {declareTokenUserSchemes, redactUrl, rememberSecrets} from '../kernel/redact.js'
import {memoryTransport} from './memory/descriptor.js'
import {redisTransport} from './redis/descriptor.js'
import {amqpTransport} from './amqp/descriptor.js'
import {sqsTransport} from './sqs/descriptor.js'
import {natsTransport} from './nats/descriptor.js'
import {postgresTransport} from './postgres/descriptor.js'
import {kafkaTransport} from './kafka/descriptor.js'

export const TRANSPORTS: readonly TransportDescriptor[] = [
  memoryTransport,
  redisTransport,
  amqpTransport,
  sqsTransport,
  natsTransport,
  postgresTransport,
  kafkaTransport,
]

// the redaction of every output path knows which user parts are tokens
declareTokenUserSchemes(TRANSPORTS.filter((t) => t.tokenUser).flatMap((t) => t.schemes))

const byScheme = new Map<string, TransportDescriptor>(TRANSPORTS.flatMap((t) => t.schemes.map((s) => [`${s}:`, t] as const)))

export const SUPPORTED_SCHEMES = [...byScheme.keys()].map((s) => s.slice(0, -1))

/** Every transport's connection options, each name once, in registry order. */
export const TRANSPORT_OPTIONS: readonly TransportOption[] = [
  ...new Map(TRANSPORTS.flatMap((t) => t.options ?? []).map((o) => [o.name, o])).values(),
]

/**
 * The QUEUE argument's help, from the descriptors: "<lead> Redis: kind:NAME …; PostgreSQL: …;
 * elsewhere its name." Every command naming a queue uses it, so a new transport's syntax shows up.
 */
export function queueArgDescription(lead: string, tail = ''): string {
  const named = TRANSPORTS.filter((t) => t.queueSyntax).map((t) => `${t.server?.name ?? t.name}: ${t.queueSyntax}`)
  return `${lead} ${named.join('; ')}; elsewhere the queue's name.${tail ? ` ${tail}` : ''}`
}

/** Every transport's `queue create` options, each name once (the first declaration's kind, every declaration's summary), with the transports that take it. */
export const CREATE_OPTIONS: readonly (CreateOption & {transports: string[]})[] = [
  ...TRANSPORTS.flatMap((t) => t.createOptions ?? [])
    .reduce((all, o) => {
      const first = all.get(o.name)
      return all.set(o.name, first ? {...first, summary: first.summary.includes(o.summary) ? first.summary : `${first.summary} ${o.summary}`} : {...o, transports: TRANSPORTS.filter((t) => t.createOptions?.some((c) => c.name === o.name)).map((t) => t.name)})
    }, new Map<string, CreateOption & {transports: string[]}>())
    .values(),
]

/** The descriptor of a transport by its name (Broker.transport). */
export function transportNamed(name: string): TransportDescriptor | undefined {
  return TRANSPORTS.find((t) => t.name === name)
}

/** The first example URL of each transport, for messages that show what a good URL looks like. */
function exampleUrls(): string[] {
  return TRANSPORTS.map((t) => t.examples[0]!)
}

/** The transport serving a parsed URL. */
export function transportOf(url: URL): TransportDescriptor {
  const transport = byScheme.get(url.protocol)
  if (!transport) throw new UsageError(`unknown scheme "${url.protocol.slice(0, -1)}" in ${redactUrl(url)} — supported: ${SUPPORTED_SCHEMES.join(', ')}`)
  return transport
}

/** Parses a connection URL, or throws a UsageError that says what a good one looks like. */
export function parseBrokerUrl(raw: string): URL {
  const text = raw.trim()
  if (!text) throw new UsageError(`the connection URL is empty — give one such as ${orList(exampleUrls())}`)
  let url: URL
  try {
    url = new URL(prepared(text))
  } catch {
    throw new UsageError(`"${redactUrl(text)}" is not a valid URL — write it as scheme://host:port, e.g. ${orList(exampleUrls())}`)
  }
  rememberSecrets(url)
  transportOf(url)
  return url
}

/** The text after its transport's pre-parsing (several hosts folded into the query), when the scheme is known. */
function prepared(text: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(text)?.[1]?.toLowerCase()
  const transport = scheme === undefined ? undefined : byScheme.get(scheme)
  return transport?.prepareUrl ? transport.prepareUrl(text) : text
}

function orList(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/** Creates (but does not connect) the broker for a URL, inside the guard that refuses what its queues cannot do. */
export async function createBroker(raw: string | URL, options: BrokerOptions): Promise<Broker> {
  const url = typeof raw === 'string' ? parseBrokerUrl(raw) : raw
  const factory = await transportOf(url).load()
  return guardBroker(await factory(url, options))
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
