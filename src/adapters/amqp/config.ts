// Reads an amqp:// or amqps:// URL into what amqplib and the management API need.
//   amqp://user:pass@host:5672/vhost?hosts=h2:5672,h3&queueType=quorum&flavor=celery
// vhost: the path, URL-decoded; an empty path or "/" is the default vhost "/" (as `%2F` is).
// hosts: more cluster nodes, tried in order when the first refuses the connection (a URL cannot
//   hold several authorities, so they go in the query).
// queueType: classic (default) | quorum | stream — what createQueue declares, and so which
//   capabilities hold (quorum queues have no priorities before RabbitMQ 4).
// flavor: celery — encode every enqueue as a Celery protocol-2 task (EnqueueOptions.flavor wins).
// maxMessageBytes: the server's max_message_size when it is not RabbitMQ's default 128 MiB.
// heartbeat, frameMax: passed to amqplib.
import {readFileSync} from 'node:fs'
import type {BrokerOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {redactUrl, rememberSecrets} from '../../kernel/redact.js'

export type QueueType = 'classic' | 'quorum' | 'stream'

export interface AmqpEndpoint {
  host: string
  port: number
}

export interface AmqpConfig {
  tls: boolean
  endpoints: AmqpEndpoint[]
  username: string
  password: string
  vhost: string
  queueType: QueueType
  flavor?: 'celery'
  maxMessageBytes: number
  heartbeat?: number
  frameMax?: number
  timeoutMs: number
  /** Socket options for TLS (CA, verification). */
  tlsOptions: {ca?: Buffer; rejectUnauthorized?: boolean}
  /** `explicit`: given with --mgmt-url (else derived from the AMQP URL). */
  mgmt: {base: string; username: string; password: string; explicit: boolean}
  displayUrl: string
}

/** RabbitMQ's default max_message_size since 3.8 (128 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024

const KNOWN_PARAMS = new Set(['hosts', 'queueType', 'flavor', 'maxMessageBytes', 'heartbeat', 'frameMax'])

function parseEndpoint(text: string, defaultPort: number, url: URL): AmqpEndpoint {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text.trim())
  if (!m) throw new UsageError(`"${text}" in hosts= of ${redactUrl(url)} is not host[:port]`)
  return {host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort}
}

function intParam(url: URL, key: string): number | undefined {
  const raw = url.searchParams.get(key)
  if (raw === null) return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${key}=${raw} in ${redactUrl(url)} must be a whole number ≥ 0`)
  return n
}

export function parseAmqpConfig(url: URL, options: BrokerOptions): AmqpConfig {
  const tls = url.protocol === 'amqps:'
  const defaultPort = tls ? 5671 : 5672
  for (const key of url.searchParams.keys()) {
    if (!KNOWN_PARAMS.has(key)) {
      throw new UsageError(`unknown parameter "${key}" in ${redactUrl(url)} — known: ${[...KNOWN_PARAMS].join(', ')}`)
    }
  }
  const first: AmqpEndpoint = {host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: url.port ? Number(url.port) : defaultPort}
  const more = (url.searchParams.get('hosts') ?? '').split(',').filter((h) => h.trim()).map((h) => parseEndpoint(h, defaultPort, url))

  const path = url.pathname.replace(/^\//, '')
  const vhost = path === '' ? '/' : decodeURIComponent(path)

  const queueType = (url.searchParams.get('queueType') ?? 'classic') as QueueType
  if (!['classic', 'quorum', 'stream'].includes(queueType)) {
    throw new UsageError(`queueType=${queueType} in ${redactUrl(url)} — use classic, quorum or stream`)
  }
  const flavor = url.searchParams.get('flavor') ?? undefined
  if (flavor !== undefined && flavor !== 'celery') throw new UsageError(`flavor=${flavor} in ${redactUrl(url)} — the AMQP adapter knows flavor=celery`)

  const username = url.username ? decodeURIComponent(url.username) : 'guest'
  const password = url.password ? decodeURIComponent(url.password) : url.username ? '' : 'guest'

  const tlsOptions: AmqpConfig['tlsOptions'] = {}
  if (options.tls?.caFile) {
    try {
      tlsOptions.ca = readFileSync(options.tls.caFile)
    } catch (error) {
      throw new UsageError(`cannot read the CA file ${options.tls.caFile}: ${(error as Error).message}`)
    }
  }
  if (options.tls?.insecure) tlsOptions.rejectUnauthorized = false

  return {
    tls,
    endpoints: [first, ...more],
    username,
    password,
    vhost,
    queueType,
    flavor: flavor as 'celery' | undefined,
    maxMessageBytes: intParam(url, 'maxMessageBytes') ?? DEFAULT_MAX_MESSAGE_BYTES,
    heartbeat: intParam(url, 'heartbeat'),
    frameMax: intParam(url, 'frameMax'),
    timeoutMs: options.timeoutMs,
    tlsOptions,
    mgmt: mgmtEndpoint(options.options?.['mgmt-url'], first.host, tls, username, password),
    displayUrl: displayUrl(url),
  }
}

/** The management API base: --mgmt-url (its own credentials if it has them), else the AMQP host on :15672. */
function mgmtEndpoint(mgmtUrl: string | undefined, host: string, tls: boolean, username: string, password: string): AmqpConfig['mgmt'] {
  if (!mgmtUrl) {
    const h = host.includes(':') ? `[${host}]` : host
    return {base: `${tls ? 'https' : 'http'}://${h}:15672`, username, password, explicit: false}
  }
  let u: URL
  try {
    u = new URL(mgmtUrl)
  } catch {
    throw new UsageError(`--mgmt-url "${redactUrl(mgmtUrl)}" is not a URL — e.g. http://127.0.0.1:15672`)
  }
  rememberSecrets(u)
  const user = u.username ? decodeURIComponent(u.username) : username
  const pass = u.username ? decodeURIComponent(u.password) : password
  u.username = ''
  u.password = ''
  return {base: u.href.replace(/\/+$/, ''), username: user, password: pass, explicit: true}
}

/** The URL as we show it, in the one redacted form (user:***@, secrets in the query masked). */
function displayUrl(url: URL): string {
  return redactUrl(url)
}

/** One cluster node's address as errors name it: the display URL (user, vhost) on that host and port, without the node list. */
export function endpointUrl(display: string, endpoint: {host: string; port: number}): string {
  const shown = new URL(display)
  shown.hostname = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  shown.port = String(endpoint.port)
  shown.search = ''
  return redactUrl(shown)
}
