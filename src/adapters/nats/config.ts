// nats:// URLs → connection settings. Forms:
//   nats://127.0.0.1:4222                      no auth
//   nats://user:pass@h1:4222,h2:4222           user and password, several seed servers
//   nats://TOKEN@127.0.0.1:4222                a token (the user part with no password)
//   nats+tls://host:4222                       TLS (--tls-ca / --insecure apply)
// Options: creds=FILE (credentials file; or --creds / NATS_CREDS), nkey=FILE (nkey seed; or --nkey / NATS_NKEY), consumer=NAME (the durable to use
// when a queue names only its stream), subject=SUBJ (publish subject, default the stream's first).
// A queue is STREAM or STREAM/CONSUMER (see names.ts).
import type {BrokerOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {serversOf, userOf} from '../../broker/kit/servers.js'
import {redactUrl, rememberSecrets} from '../../kernel/redact.js'

export interface NatsSettings {
  servers: string[]
  user?: string
  pass?: string
  token?: string
  credsFile?: string
  nkeyFile?: string
  tls?: {caFile?: string; insecure?: boolean}
  consumer?: string
  subject?: string
  timeoutMs: number
  displayUrl: string
}

const KNOWN = new Set(['creds', 'nkey', 'consumer', 'subject', 'seeds'])
const DEFAULT_PORT = 4222

export function parseNatsUrl(url: URL, options: BrokerOptions): NatsSettings {
  for (const key of url.searchParams.keys()) {
    if (!KNOWN.has(key)) throw new UsageError(`unknown option "${key}" in ${redactUrl(url)} — nats:// takes: creds, nkey, consumer, subject`)
  }
  if (url.pathname && url.pathname !== '/') {
    throw new UsageError(`${redactUrl(url)} has a path: nats:// URLs name a server, not a stream — give the stream as the queue (STREAM or STREAM/CONSUMER)`)
  }
  const servers = serversOf(url, DEFAULT_PORT)
  const {user, password: pass} = userOf(url)
  // nats://TOKEN@host: a user part with no password is a token, and as secret as a password
  const token = user !== undefined && pass === undefined ? user : undefined
  if (token) rememberSecrets(new URL(`nats://token:${encodeURIComponent(token)}@h`))
  const tls = url.protocol === 'nats+tls:' ? {caFile: options.tls?.caFile, insecure: options.tls?.insecure} : options.tls
  return {
    servers,
    user: token ? undefined : user,
    pass,
    token,
    credsFile: url.searchParams.get('creds') || options.options?.creds || undefined,
    nkeyFile: url.searchParams.get('nkey') || options.options?.nkey || undefined,
    tls,
    consumer: url.searchParams.get('consumer') || undefined,
    subject: url.searchParams.get('subject') || undefined,
    timeoutMs: options.timeoutMs,
    displayUrl: displayUrl(url, servers, token !== undefined),
  }
}

function displayUrl(url: URL, servers: string[], token: boolean): string {
  const auth = token ? '***@' : url.username ? `${url.username}${url.password ? ':***' : ''}@` : ''
  const query = new URLSearchParams(url.searchParams)
  query.delete('seeds')
  // readable, not form-encoded: a display string, never parsed again
  const rest = query.size > 0 ? `?${[...query].map(([k, v]) => `${k}=${v}`).join('&')}` : ''
  return redactUrl(`${url.protocol}//${auth}${servers.join(',')}${rest}`)
}
