// Client failures → one-line UserErrors. Matched by name and code, so this file loads no SDK.
import {ConnectionError, isUserError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'

interface NatsLikeError {
  name?: string
  message?: string
  code?: string | number
  cause?: {message?: string; code?: string}
}

const NETWORK = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|connection refused|timeout|TIMEOUT|disconnect|closed/i
const AUTH = /authorization|authentication|auth(entication)? (violation|expired)|permissions? violation|user authentication/i

function text(error: unknown): string {
  const e = error as NatsLikeError
  const cause = e?.cause?.message ? ` (${e.cause.message})` : ''
  return redactText(`${String(e?.message ?? error)}${cause}`).split('\n')[0]!
}

function isAuthError(error: unknown): boolean {
  const e = error as NatsLikeError
  return e?.name === 'AuthorizationError' || e?.name === 'UserAuthenticationExpiredError' || AUTH.test(String(e?.message ?? ''))
}

/** A failure of the connection, not of the request: worth waiting out. */
export function isConnectionTrouble(error: unknown): boolean {
  const e = error as NatsLikeError
  if (isAuthError(error)) return false
  const name = e?.name ?? ''
  return /ConnectionError|ClosedConnectionError|TimeoutError|DrainingConnectionError|NoRespondersError/.test(name) || NETWORK.test(text(error))
}

/** A refused connect, in words that say what to check. */
export function connectError(error: unknown, where: string): Error {
  if (isUserError(error)) return error
  if (isAuthError(error)) {
    return new ConnectionError(`${where} refused the login (${text(error)}) — check the user and password, token or --creds file`)
  }
  if (isConnectionTrouble(error)) {
    return new ConnectionError(`cannot reach ${where}: ${text(error)} — is nats-server running, with JetStream (-js)?`, true)
  }
  return new ConnectionError(`cannot connect to ${where}: ${text(error)}`)
}

/** Any other failure of a request, as a UserError where it is the user's to fix. */
export function requestError(error: unknown, where: string): Error {
  if (isUserError(error)) return error
  if (isAuthError(error)) return new ConnectionError(`${where} refused: ${text(error)} — the user lacks the permission`)
  if (isConnectionTrouble(error)) return new ConnectionError(`lost ${where}: ${text(error)}`, true)
  return error instanceof Error ? error : new Error(text(error))
}

export function isNotFound(error: unknown, what: 'stream' | 'consumer'): boolean {
  const e = error as NatsLikeError & {api_error?: {err_code?: number}}
  const code = Number(e?.code ?? e?.api_error?.err_code)
  if (what === 'stream') return e?.name === 'StreamNotFoundError' || code === 10059
  return e?.name === 'ConsumerNotFoundError' || code === 10014
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
