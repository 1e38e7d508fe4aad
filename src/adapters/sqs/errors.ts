// SDK failures → one-line UserErrors, and the back-off used wherever SQS throttles us.
import {ConnectionError, NotFoundError, UsageError, isUserError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'
import {THROTTLE_BACKOFF, backoffDelay, sleep} from '../../kernel/backoff.js'

interface AwsError {
  name?: string
  message?: string
  code?: string
  $retryable?: {throttling?: boolean}
  $metadata?: {httpStatusCode?: number}
}

const THROTTLING = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'KmsThrottled',
])
const AUTH = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidSecurity',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
])
const NETWORK = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|socket hang up|TimeoutError/i

export function errorName(error: unknown): string {
  const e = error as AwsError
  return e?.name ?? e?.code ?? 'Error'
}

export function isThrottling(error: unknown): boolean {
  const e = error as AwsError
  return THROTTLING.has(errorName(error)) || e?.$retryable?.throttling === true || e?.$metadata?.httpStatusCode === 429
}

export function isQueueMissing(error: unknown): boolean {
  const name = errorName(error)
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue' || name === 'NonExistentQueue'
}

/** SQS no longer holds the message under this receipt handle: its visibility timeout ran out (and maybe someone received it again). */
export function isLeaseGone(error: unknown): boolean {
  const name = errorName(error)
  if (name === 'MessageNotInflight' || name === 'AWS.SimpleQueueService.MessageNotInflight') return true
  return (name === 'InvalidParameterValue' || name === 'ReceiptHandleIsInvalid') && /receipt handle has expired/i.test(text(error))
}

function text(error: unknown): string {
  return redactText(String((error as AwsError)?.message ?? error)).split('\n')[0]!
}

/** Turns an SDK error into a UserError (or returns it unchanged when it already is one). */
export function toUserError(error: unknown, where: string, queue?: string): Error {
  if (isUserError(error)) return error
  const name = errorName(error)
  if (queue !== undefined && isQueueMissing(error)) {
    return new NotFoundError(`queue "${queue}" not found on ${where} — run \`queue inspect\` to list the queues`)
  }
  if (AUTH.has(name)) {
    return new ConnectionError(
      `${where} rejected the credentials (${name}: ${text(error)}) — check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE and the region`,
    )
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(text(error))) {
    return new ConnectionError(
      `no AWS credentials for ${where} — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or put KEYID:SECRET@ in the sqs:// URL for an emulator`,
    )
  }
  if (/Region is missing/i.test(text(error))) {
    return new ConnectionError(`no AWS region for ${where} — set AWS_REGION or add ?region=us-east-1 to the sqs:// URL`)
  }
  if (NETWORK.test(`${name} ${text(error)}`) || name === 'AbortError') {
    return new ConnectionError(`cannot reach ${where}: ${text(error)} — is the endpoint right and the service (or emulator) running?`)
  }
  // an endpoint that is some other server: not HTTP at all, or HTTP the SDK cannot read as SQS
  if (/Parse Error|Expected HTTP/i.test(text(error))) {
    return new ConnectionError(`${where} answered in another protocol (not HTTP) — is the endpoint the SQS service's (an emulator's HTTP port)?`)
  }
  if (name === 'UnknownError' || text(error) === 'UnknownError') {
    const status = (error as AwsError)?.$metadata?.httpStatusCode
    return new ConnectionError(`${where} answered${status ? ` HTTP ${status}` : ''}, but not as SQS — is the endpoint the SQS service's (an emulator's port)?`)
  }
  if (name === 'InvalidParameterValue' || name === 'InvalidAttributeValue' || name === 'InvalidAttributeName' || name === 'MissingParameter') {
    return new UsageError(`${where} refused the request: ${text(error)}`)
  }
  return error instanceof Error ? error : new Error(text(error))
}

/** The one throttling back-off, counted from 0 here: attempt 0 → up to 100 ms, … up to 5 s. */
export function backoffMs(attempt: number): number {
  return backoffDelay(attempt + 1, THROTTLE_BACKOFF)
}

/** Runs `call` again while SQS throttles it (the SDK's own retries gave up), up to ~1 minute. */
export async function throttled<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (!isThrottling(error) || attempt >= 15 || signal?.aborted) throw error
      await sleep(backoffMs(attempt))
    }
  }
}
