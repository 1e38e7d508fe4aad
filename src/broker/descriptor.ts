// A transport described as data: everything the registry, the CLI's connection flags, saved
// contexts and the export format need to know about it, without loading its SDK. Each transport
// exports one from src/adapters/<transport>/descriptor.ts; the registry is the list of them.
import type {BrokerFactory} from './contract.js'

/**
 * A connection option of one transport (RabbitMQ's management API URL, an SQS endpoint): a
 * CONNECTION flag on every command, kept per saved context, handed to the adapter as
 * `BrokerOptions.options[name]`.
 */
export interface TransportOption {
  /** The flag name without dashes; also the key in `BrokerOptions.options` and in a context's options. */
  name: string
  /** One line for `--help`. */
  summary: string
  /** Environment variable read when the flag is not given. */
  env?: string
  /** The value may hold credentials (a URL with a password): shown only redacted. */
  secret?: boolean
  /** The field a saved context kept this option in before options were stored per transport. */
  legacyContextKey?: string
}

/** Header names the broker (or the adapter on its behalf) writes itself; `prefix*` matches a prefix. */
export interface TransportHeaders {
  /** Delivery history and counts: never copied onto another message (export, move, import). */
  broker?: readonly string[]
  /** Dead-letter notes: dropped when a message goes back to work (retry). */
  deadLetter?: readonly string[]
}

export interface BrokerServer {
  name: string
  port?: number
  /** How to name its port when not "the NAME port" ("RabbitMQ's AMQP port"). */
  portName?: string
}

/**
 * What to check when something answered on a port, but not in this broker's protocol:
 * "is this the Redis port (usually 6379)? another kind of server may be listening there".
 */
export function wrongPortHint(server: BrokerServer): string {
  const usual = server.port ? ` (usually ${server.port})` : ''
  return `is this ${server.portName ?? `the ${server.name} port`}${usual}? another kind of server may be listening there`
}

/**
 * An option `queue create` can set on a new queue of this transport (RabbitMQ's --type, SQS's
 * --visibility-timeout…): a flag of `queue create`, validated before the adapter sees it.
 * integer: a whole number ≥ 0; duration: 30s, 5m…, handed over in ms; choice: one of `values`.
 */
export interface CreateOption {
  /** The flag name without dashes; also the key in QueueOptions. */
  name: string
  summary: string
  kind: 'boolean' | 'integer' | 'duration' | 'string' | 'choice'
  values?: readonly string[]
}

export interface TransportDescriptor {
  /** The transport's folder name under src/adapters. */
  name: string
  /** URL schemes it serves, without the colon. */
  schemes: readonly string[]
  /** One line: what it talks to. */
  summary: string
  /** Connection URLs a user can start from. */
  examples: readonly string[]
  /** How a queue is named on it, for every command's QUEUE argument ("kind:NAME, e.g. bullmq:emails"); absent: its plain name. */
  queueSyntax?: string
  options?: readonly TransportOption[]
  /** The server it talks to, as connection errors name it: "Redis", usually on port 6379. */
  server?: BrokerServer
  /** A user part with no password is a token (nats://TOKEN@host): redacted like a password. */
  tokenUser?: boolean
  headers?: TransportHeaders
  /** What `queue create` can set on a new queue here; a flag another transport declares is refused with these named. */
  createOptions?: readonly CreateOption[]
  /** Rewrites a URL text the WHATWG parser cannot hold as it is (several hosts), before parsing. */
  prepareUrl?(text: string): string
  /** Imports the adapter (and its SDK) only now: start-up pays for the one transport used. */
  load(): Promise<BrokerFactory>
}

/**
 * WHATWG URLs hold one host: `scheme://h1:p1,h2:p2/x` keeps the first as the host and the other
 * seeds in `?seeds=h2:p2` (the adapter reads both and shows the list again). For the transports
 * that take several seed servers (redis+cluster, nats); other texts are returned as they are.
 */
export function seedsInQuery(text: string, schemes: readonly string[]): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\/((?:[^@/?#]*@)?)([^/?#]+)(.*)$/i.exec(text)
  if (!match || !schemes.includes(match[1]!.toLowerCase()) || !match[3]!.includes(',')) return text
  const [first, ...rest] = match[3]!.split(',').filter(Boolean)
  const tail = match[4]!
  const hash = tail.indexOf('#')
  const [body, fragment] = hash >= 0 ? [tail.slice(0, hash), tail.slice(hash)] : [tail, '']
  return `${match[1]}://${match[2]}${first}${body}${body.includes('?') ? '&' : '?'}seeds=${rest.join(',')}${fragment}`
}
