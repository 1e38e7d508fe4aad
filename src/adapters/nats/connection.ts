// Opening the NATS connection: seeds, user/password, token, creds or nkey file, TLS. The client
// reconnects by itself for as long as the connection lives; consumers decide how long to wait.
import {readFile} from 'node:fs/promises'
import {checkServerIdentity, type PeerCertificate} from 'node:tls'
import {connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection} from '@nats-io/transport-node'
import {UsageError} from '../../kernel/errors.js'
import type {NatsSettings} from './config.js'
import {connectError} from './errors.js'

async function readSecretFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path))
  } catch (error) {
    throw new UsageError(`cannot read the ${what} file ${path}: ${(error as Error).message}`)
  }
}

export async function openConnection(settings: NatsSettings): Promise<NatsConnection> {
  const authenticator = settings.credsFile
    ? credsAuthenticator(await readSecretFile(settings.credsFile, 'creds'))
    : settings.nkeyFile
      ? nkeyAuthenticator(new TextEncoder().encode(new TextDecoder().decode(await readSecretFile(settings.nkeyFile, 'nkey seed')).trim()))
      : undefined
  const tls = settings.tls
    ? {caFile: settings.tls.caFile, rejectUnauthorized: settings.tls.insecure ? false : undefined, checkServerIdentity: identityCheck(settings.servers)}
    : undefined
  try {
    return await connect({
      servers: settings.servers,
      user: settings.user,
      pass: settings.pass,
      token: settings.token,
      authenticator,
      tls,
      name: 'queuectl',
      timeout: settings.timeoutMs,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // a refused first connect is reported at once, not retried in the background
      waitOnFirstConnect: false,
      // no stack captured at every request (each js.publish made two Error objects: ~20% of the
      // CPU of a bench); our errors are one line with the cause, never a client stack
      noAsyncTraces: true,
    })
  } catch (error) {
    throw connectError(error, settings.displayUrl)
  }
}

/**
 * The client sends no SNI for a server given by IP address, and Node then checks the certificate
 * against "localhost": check it against the servers of the URL instead (any of them may answer).
 */
function identityCheck(servers: string[]): (host: string, cert: PeerCertificate) => Error | undefined {
  const hosts = servers.map((s) => s.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'))
  return (host, cert) => {
    const candidates = host === 'localhost' && !hosts.includes('localhost') ? hosts : [host]
    const errors = candidates.map((h) => checkServerIdentity(h, cert))
    return errors.some((e) => e === undefined) ? undefined : errors[0]
  }
}
