// Two kinds of error, kept apart: a UserError is expected (bad flag, unknown queue, refused
// connection) and prints as one line with its exit code; anything else is a bug and prints its
// stack under DEBUG=queuectl.
import {redactText} from './redact.js'

export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  connection: 3,
  notFound: 4,
  interrupted: 130,
} as const

export class UserError extends Error {
  readonly exitCode: number
  readonly suggestions: string[]
  constructor(message: string, exitCode: number, suggestions: string[] = []) {
    super(redactText(message))
    this.name = new.target.name
    this.exitCode = exitCode
    this.suggestions = suggestions.map(redactText)
  }
}

/** Exit 1: a check or assertion failed (thresholds, `wait` timeout, partial batch failure). */
export class CheckFailedError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.checkFailed)
  }
}

/** Exit 1: the user answered no at a prompt; nothing was changed (a script sees it did not happen). */
export class DeclinedError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.checkFailed)
  }
}

/** Exit 2: the user asked for something malformed. */
export class UsageError extends UserError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, ExitCode.usage, suggestions)
  }
}

/**
 * Exit 3: cannot connect, authenticate or negotiate TLS. `transient` marks a failure that may pass
 * by itself (connection refused, reset or lost, timed out), as opposed to a refusal that will not
 * (wrong password, ACL, TLS): long-running commands retry the first kind for a bounded time.
 */
export class ConnectionError extends UserError {
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message, ExitCode.connection)
  }
}

/** Exit 4: a queue, message or context that does not exist, or an operation the broker lacks. */
export class NotFoundError extends UserError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, ExitCode.notFound, suggestions)
  }
}

export class NotSupportedError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.notFound)
  }
}

/** Exit 130: interrupted by the user. */
export class InterruptedError extends UserError {
  constructor(message = 'interrupted') {
    super(message, ExitCode.interrupted)
  }
}

/** A batch enqueue that stopped partway: says how many made it. */
export class EnqueueError extends UserError {
  readonly sent: number
  /** Indices (into the batch) of the messages not confirmed stored, where the adapter knows them. */
  readonly pending?: number[]
  /** The cause may pass by itself (see ConnectionError.transient): re-sending `pending` may succeed. */
  readonly transient: boolean
  constructor(message: string, sent: number, exitCode: number = ExitCode.connection, more: {pending?: number[]; transient?: boolean} = {}) {
    super(message, exitCode)
    this.sent = sent
    if (more.pending) this.pending = more.pending
    this.transient = more.transient ?? false
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError
}

/** True for a failure that may pass by itself (a lost or refused connection), worth retrying for a while. */
export function isTransient(error: unknown): boolean {
  return (error instanceof ConnectionError || error instanceof EnqueueError) && error.transient
}
