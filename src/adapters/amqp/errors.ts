// amqplib's errors → one UserError line each. amqplib reports broker refusals as text such as
// `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "…"`; we keep RabbitMQ's
// own reason and add what to do about it.
import {ConnectionError, NotFoundError, NotSupportedError, UserError, isUserError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'
import {wrongPortHint} from '../../broker/descriptor.js'
import {amqpTransport} from './descriptor.js'

/** RabbitMQ's reply text inside an amqplib error message, e.g. `NOT_FOUND - no queue 'x' in vhost '/'`. */
export function replyText(error: unknown): string {
  const message = String((error as Error)?.message ?? error)
  const m = /with message "([^"]*)"/.exec(message)
  return redactText(m ? m[1]! : message).replace(/\s+/g, ' ').trim()
}

function replyCode(error: unknown): number | undefined {
  const code = (error as {code?: unknown})?.code
  if (typeof code === 'number') return code
  const m = /; (\d{3}) \(|: (\d{3}) \(/.exec(String((error as Error)?.message ?? ''))
  return m ? Number(m[1] ?? m[2]) : undefined
}

/** A failure to open the connection: always exit 3, never the password. */
export function connectionError(error: unknown, where: string, vhost: string): ConnectionError {
  if (isUserError(error)) return error as ConnectionError
  const text = replyText(error)
  const code = (error as {code?: string})?.code
  // a refused login: by name, or by reply code 403 (never any "403" in the text: OpenSSL 3 errors
  // start with a hex thread id, which may hold one)
  if (/ACCESS.REFUSED/.test(text) || /ACCESS.REFUSED/.test(String((error as Error)?.message)) || replyCode(error) === 403) {
    return new ConnectionError(`RabbitMQ at ${where} refused the login (ACCESS_REFUSED) — check the user and password in the URL`)
  }
  // RabbitMQ closes the connection at connection.open for an unknown or forbidden vhost; amqplib
  // then only says it expected ConnectionOpenOk
  if (/NOT_ALLOWED|vhost .* not found|access to vhost|Expected ConnectionOpenOk; got <ConnectionClose/i.test(text)) {
    return new ConnectionError(
      `RabbitMQ at ${where} refused vhost "${vhost}" (it does not exist or the user has no access) — check the vhost in the URL path (the default vhost is / or %2F) and the user's permissions`,
    )
  }
  if (code === 'ECONNREFUSED') return new ConnectionError(`nothing is listening at ${where} (connection refused) — is RabbitMQ running on that host and port?`, true)
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConnectionError(`cannot resolve the host of ${where} — check the host name in the URL`)
  if (/ETIMEDOUT/.test(text)) return new ConnectionError(`timed out connecting to ${where} — is the host reachable? (raise --timeout if it is slow)`, true)
  if (/wrong version number|packet length too long|unknown protocol/i.test(text)) {
    return new ConnectionError(`${where} does not speak TLS (the handshake got plain data) — use amqp:// for that port, or the broker's TLS port (usually 5671)`)
  }
  if (/certificate|SSL|TLS|self.signed/i.test(text)) {
    return new ConnectionError(`TLS handshake with ${where} failed: ${text} — pass --tls-ca FILE (or --tls-insecure, unverified)`)
  }
  // bytes that are no AMQP frame, or a close before the handshake ended: another server's port, or a node still starting
  if (/Frame size .* exceeds|Socket closed abruptly during opening handshake|Unexpected (frame|close)/i.test(text)) {
    return new ConnectionError(`${where} did not answer as RabbitMQ (${text}) — ${wrongPortHint(amqpTransport.server!)}, or RabbitMQ is starting`, true)
  }
  // anything else (reset, a node still starting) may pass by itself
  return new ConnectionError(`cannot connect to ${where}: ${text}`, true)
}

/** A channel-level refusal while working on `queue` → the UserError that says what to do. */
export function channelError(error: unknown, queue: string, where: string): UserError {
  if (isUserError(error)) return error
  const code = replyCode(error)
  const text = replyText(error)
  if (code === 404) return new NotFoundError(`queue "${queue}" not found on ${where} (${text}) — run \`queue inspect\` to list the queues`)
  if (code === 406) {
    if (/inequivalent arg/.test(text)) {
      return new NotSupportedError(
        `queue "${queue}" already exists with different arguments (PRECONDITION_FAILED: ${text}) — use the existing queue's arguments (see \`queue inspect ${queue}\`) or delete it first`,
      )
    }
    if (/larger than configured max size/.test(text)) {
      return new NotSupportedError(`RabbitMQ refused a message to "${queue}": ${text} — split the payload or raise max_message_size in rabbitmq.conf`)
    }
    return new NotSupportedError(`RabbitMQ refused the operation on "${queue}" (PRECONDITION_FAILED: ${text})`)
  }
  if (code === 403) return new ConnectionError(`RabbitMQ denied access to "${queue}" (${text}) — the user lacks configure/write/read permission on it`)
  if (code === 405) return new NotSupportedError(`queue "${queue}" is locked by another connection (${text}) — it is exclusive to its owner`)
  return new ConnectionError(`RabbitMQ closed the channel while working on "${queue}" at ${where}: ${text}`)
}
