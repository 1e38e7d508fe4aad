// Client failures → one-line UserErrors. @platformatic/kafka nests errors (MultipleErrors of
// ProtocolErrors with a cause): every message and Kafka error id in the tree is matched.
import {ConnectionError, UsageError, isUserError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'

interface KafkaLikeError {
  name?: string
  message?: string
  code?: string
  apiId?: string
  errors?: unknown[]
  cause?: unknown
}

/** Every message and Kafka error id in the tree, for matching. */
function flatten(error: unknown, out: string[] = [], depth = 0): string[] {
  const e = error as KafkaLikeError
  if (!e || depth > 6) return out
  out.push(`${e.code ?? ''} ${e.apiId ?? ''} ${String(e.message ?? error)}`)
  for (const inner of e.errors ?? []) flatten(inner, out, depth + 1)
  if (e.cause) flatten(e.cause, out, depth + 1)
  return out
}

/** The deepest useful message: the server's words, not the wrapper's. */
function text(error: unknown): string {
  const all = flatten(error).map((m) => m.replace(/^\S*\s\S*\s/, '').trim()).filter(Boolean)
  const detail = all.filter((m) => !/^(Cannot|Received response with error|Connection to .* failed|Request failed)/.test(m))
  return redactText((detail.at(-1) ?? all[0] ?? String(error)).split('\n')[0]!)
}

const has = (error: unknown, pattern: RegExp): boolean => flatten(error).some((m) => pattern.test(m))

const AUTH = /PLT_KFK_AUTHENTICATION|SASL_AUTHENTICATION_FAILED|ILLEGAL_SASL_STATE|UNSUPPORTED_SASL_MECHANISM|Authentication failed|Invalid username or password/i
const NETWORK = /PLT_KFK_NETWORK|PLT_KFK_TIMEOUT|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|EPIPE|socket hang up|Connection closed|timed out|NOT_COORDINATOR|COORDINATOR_NOT_AVAILABLE|COORDINATOR_LOAD_IN_PROGRESS|LEADER_NOT_AVAILABLE|NOT_LEADER_OR_FOLLOWER/i
const TOO_LARGE = /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/

export const isAuthError = (error: unknown): boolean => has(error, AUTH)
export const isTooLarge = (error: unknown): boolean => has(error, TOO_LARGE)
export const isUnknownTopic = (error: unknown): boolean => has(error, /UNKNOWN_TOPIC_OR_PARTITION|UNKNOWN_TOPIC_ID|Unknown topic/)

/** A failure of the connection, not of the request: worth waiting out. */
export function isConnectionTrouble(error: unknown): boolean {
  return !isAuthError(error) && has(error, NETWORK)
}

/** A refused connect, in words that say what to check. */
export function connectError(error: unknown, where: string): Error {
  if (isUserError(error)) return error
  if (isAuthError(error)) {
    return new ConnectionError(`${where} refused the login (${text(error)}) — check the user, password and SASL mechanism (?mechanism=plain|scram-sha-256|scram-sha-512)`)
  }
  if (isConnectionTrouble(error)) {
    return new ConnectionError(`cannot reach ${where}: ${text(error)} — is Kafka running there (scripts/kafka.sh start for a local one)?`, true)
  }
  return new ConnectionError(`cannot connect to ${where}: ${text(error)}`)
}

/** Any other failure of a request, as a UserError where it is the user's to fix. */
export function requestError(error: unknown, where: string): Error {
  if (isUserError(error)) return error
  if (isAuthError(error)) return connectError(error, where)
  if (has(error, /AUTHORIZATION_FAILED/)) return new ConnectionError(`${where} refused: ${text(error)} — the user lacks the ACL for this`)
  if (isTooLarge(error)) return new UsageError(`${where} refused a record over the topic's max.message.bytes: ${text(error)} — send smaller records or raise max.message.bytes`)
  if (isConnectionTrouble(error)) return new ConnectionError(`lost ${where}: ${text(error)}`, true)
  return error instanceof Error ? new Error(text(error), {cause: error}) : new Error(text(error))
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
