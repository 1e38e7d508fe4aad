// One way to open a target: a resolved connection (a URL, perhaps a saved context with its own
// options) and the command's connection flags → a connected broker. BaseCommand, top and metrics
// all open brokers through here.
import type {Broker} from '../broker/contract.js'
import {boundedBroker} from '../broker/kit/deadline.js'
import {TRANSPORT_OPTIONS, createBroker} from '../adapters/registry.js'
import {rememberSecrets} from '../kernel/redact.js'
import {parseDuration} from '../kernel/units.js'
import {brokerOptions, connectWithin, type ConnectionFlags, type ResolvedConnection} from './connection.js'
import {rememberingListings} from './queue-cache.js'

/** The CONNECTION flags as oclif parsed them: the common ones and each transport's own, by name. */
export interface ConnectionFlagValues {
  timeout?: string
  'tls-ca'?: string
  'tls-insecure'?: boolean
  [option: string]: unknown
}

/** The transport options given as flags (--mgmt-url, --endpoint…), by option name. */
export function transportOptionsOf(flags: ConnectionFlagValues): Record<string, string> {
  const options: Record<string, string> = {}
  for (const {name, secret} of TRANSPORT_OPTIONS) {
    const value = flags[name]
    if (typeof value !== 'string' || value === '') continue
    options[name] = value
    // its password is masked in every message from here on, whichever layer words it
    if (secret && URL.canParse(value)) rememberSecrets(new URL(value))
  }
  return options
}

/** Reads the connection settings off the parsed flags; `timeoutMs` overrides --timeout. */
export function connectionSettings(flags: ConnectionFlagValues, timeoutMs?: number): ConnectionFlags {
  return {
    timeoutMs: timeoutMs ?? parseDuration(flags.timeout ?? '5s', '--timeout'),
    tlsCa: flags['tls-ca'],
    tlsInsecure: flags['tls-insecure'],
    options: transportOptionsOf(flags),
  }
}

/**
 * Creates the broker and connects within the timeout; the caller closes it. Every later call is
 * bounded by the same timeout: a stalled network is an outage (exit 3), not a hang.
 */
export async function openTarget(connection: ResolvedConnection, settings: ConnectionFlags): Promise<Broker> {
  // a saved context's own secret options (a management URL with a password) are masked like the flags'
  for (const {name, secret} of TRANSPORT_OPTIONS) {
    const value = connection.options?.[name]
    if (secret && value && URL.canParse(value)) rememberSecrets(new URL(value))
  }
  const broker = await createBroker(connection.url, brokerOptions(settings, connection))
  await connectWithin(broker, settings.timeoutMs)
  // a broker in this process has no network to stall: no timer on each of its calls
  if ((await broker.capabilitiesOf()).inProcess) return broker
  // its listings are remembered for shell completion (an in-process broker's queues die with it)
  return rememberingListings(boundedBroker(broker, settings.timeoutMs), connection.url)
}
