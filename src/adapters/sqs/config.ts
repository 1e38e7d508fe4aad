// sqs:// URLs → SQS client settings. Forms:
//   sqs://                                   region and credentials from the standard AWS chain
//   sqs://?region=us-east-1&endpoint=http://127.0.0.1:4566    an emulator (or --endpoint)
//   sqs://KEYID:SECRET@127.0.0.1:4566?region=us-east-1        emulator with inline credentials
// Options: fifo=true (declare FIFO capabilities: no per-message delay), group=NAME (default
// MessageGroupId for FIFO sends), wait=SECONDS (long-poll wait, 1-20, default 20).
import type {BrokerOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {redactUrl, rememberSecret} from '../../kernel/redact.js'

export interface SqsSettings {
  region?: string
  endpoint?: string
  credentials?: {accessKeyId: string; secretAccessKey: string}
  fifo: boolean
  defaultGroupId?: string
  waitSeconds: number
  timeoutMs: number
  displayUrl: string
}

const KNOWN = new Set(['region', 'endpoint', 'fifo', 'group', 'wait'])
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/i

function flag(url: URL, key: string): boolean {
  const raw = url.searchParams.get(key)
  if (raw === null) return false
  if (/^(1|true|yes|)$/i.test(raw)) return true
  if (/^(0|false|no)$/i.test(raw)) return false
  throw new UsageError(`${key}=${raw} in the sqs:// URL must be true or false`)
}

function checkEndpoint(raw: string, where: string): string {
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new UsageError(`${where} "${redactUrl(raw)}" is not a URL — give one such as http://127.0.0.1:4566`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${where} "${redactUrl(raw)}" must be an http:// or https:// URL, e.g. http://127.0.0.1:4566`)
  }
  return parsed.origin
}

export function parseSqsUrl(url: URL, options: BrokerOptions): SqsSettings {
  for (const key of url.searchParams.keys()) {
    if (!KNOWN.has(key)) {
      throw new UsageError(`unknown option "${key}" in ${redactUrl(url)} — sqs:// takes: ${[...KNOWN].join(', ')}`)
    }
  }
  const region = url.searchParams.get('region') || undefined
  const endpointOption = options.options?.endpoint
  let endpoint: string | undefined
  if (endpointOption) endpoint = checkEndpoint(endpointOption, '--endpoint')
  else if (url.searchParams.get('endpoint')) endpoint = checkEndpoint(url.searchParams.get('endpoint')!, 'endpoint=')
  else if (url.hostname) {
    // sqs://host:port → that host as the endpoint: plain http only on loopback (emulators)
    endpoint = `${LOOPBACK.test(url.hostname) ? 'http' : 'https'}://${url.host}`
  }
  if (url.pathname && url.pathname !== '/') {
    throw new UsageError(`${redactUrl(url)} has a path — sqs:// URLs name no queue; pass the queue as an argument`)
  }
  // keys the SDK takes from the environment are as secret as those in the URL, wherever a message quotes them
  rememberSecret(process.env.AWS_SECRET_ACCESS_KEY)
  rememberSecret(process.env.AWS_SESSION_TOKEN)
  let credentials: SqsSettings['credentials']
  if (url.username || url.password) {
    if (!url.username || !url.password) {
      throw new UsageError(`credentials in ${redactUrl(url)} need both parts: sqs://KEYID:SECRET@host — or leave them out to use the AWS credential chain`)
    }
    credentials = {accessKeyId: decodeURIComponent(url.username), secretAccessKey: decodeURIComponent(url.password)}
  }
  const waitRaw = url.searchParams.get('wait')
  const waitSeconds = waitRaw === null ? 20 : Number(waitRaw)
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 20) {
    throw new UsageError(`wait=${waitRaw} in the sqs:// URL must be a whole number of seconds from 1 to 20`)
  }
  // shown as every URL is (kernel/redact.ts): KEYID:***@, the secret masked
  return {
    region,
    endpoint,
    credentials,
    fifo: flag(url, 'fifo'),
    defaultGroupId: url.searchParams.get('group') || undefined,
    waitSeconds,
    timeoutMs: options.timeoutMs,
    displayUrl: redactUrl(url),
  }
}
