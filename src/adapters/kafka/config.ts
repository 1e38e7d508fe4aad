// kafka:// URLs → connection settings. Forms:
//   kafka://127.0.0.1:9092                          no auth
//   kafka://h1:9092,h2:9092                         several bootstrap servers
//   kafka://user:pass@host:9092?mechanism=scram-sha-512   SASL (plain by default; or --sasl-mechanism)
//   kafka+ssl://host:9093                           TLS (--tls-ca / --insecure apply)
// Options: mechanism=plain|scram-sha-256|scram-sha-512, group=GROUP (the consumer group of a queue
// that names only its topic), client-id=ID. A queue is TOPIC, TOPIC/GROUP or TOPIC?group= (names.ts).
import type {BrokerOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {serversOf, userOf} from '../../broker/kit/servers.js'
import {redactUrl, rememberSecrets} from '../../kernel/redact.js'

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

export interface KafkaSettings {
  brokers: string[]
  sasl?: {mechanism: SaslMechanism; username: string; password: string}
  tls?: {caFile?: string; insecure?: boolean}
  ssl: boolean
  group?: string
  clientId: string
  timeoutMs: number
  displayUrl: string
}

const KNOWN = new Set(['mechanism', 'group', 'client-id', 'seeds'])
const DEFAULT_PORT = 9092
const MECHANISMS: Record<string, SaslMechanism> = {'plain': 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512'}

function mechanismOf(url: URL, options: BrokerOptions): SaslMechanism {
  const raw = (url.searchParams.get('mechanism') || options.options?.['sasl-mechanism'] || 'plain').toLowerCase()
  const mechanism = MECHANISMS[raw]
  if (!mechanism) throw new UsageError(`unknown SASL mechanism "${raw}" in ${redactUrl(url)} — kafka:// takes plain, scram-sha-256 or scram-sha-512`)
  return mechanism
}

export function parseKafkaUrl(url: URL, options: BrokerOptions): KafkaSettings {
  for (const key of url.searchParams.keys()) {
    if (!KNOWN.has(key)) throw new UsageError(`unknown option "${key}" in ${redactUrl(url)} — kafka:// takes: mechanism, group, client-id, seeds`)
  }
  if (url.pathname && url.pathname !== '/') {
    throw new UsageError(`${redactUrl(url)} has a path: kafka:// URLs name servers, not a topic — give the topic as the queue (TOPIC or TOPIC/GROUP)`)
  }
  rememberSecrets(url)
  const brokers = serversOf(url, DEFAULT_PORT)
  const {user: username, password} = userOf(url)
  if (username && password === undefined) throw new UsageError(`${redactUrl(url)} has a user but no password — write kafka://USER:PASSWORD@host:9092`)
  const ssl = url.protocol === 'kafka+ssl:'
  return {
    brokers,
    sasl: username && password !== undefined ? {mechanism: mechanismOf(url, options), username, password} : undefined,
    tls: ssl ? {caFile: options.tls?.caFile, insecure: options.tls?.insecure} : undefined,
    ssl,
    group: url.searchParams.get('group') || undefined,
    clientId: url.searchParams.get('client-id') || 'queuectl',
    timeoutMs: options.timeoutMs,
    displayUrl: displayUrl(url, brokers),
  }
}

function displayUrl(url: URL, brokers: string[]): string {
  const auth = url.username ? `${url.username}${url.password ? ':***' : ''}@` : ''
  const query = new URLSearchParams(url.searchParams)
  query.delete('seeds')
  const rest = query.size > 0 ? `?${[...query].map(([k, v]) => `${k}=${v}`).join('&')}` : ''
  return redactUrl(`${url.protocol}//${auth}${brokers.join(',')}${rest}`)
}
