// The ONE place queuectl handles SIGINT and SIGTERM. The first signal asks for a graceful stop
// (stop taking new work, finish or hand back what is in hand); the second forces; the exit code is
// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as shells expect.
//
// Usage in a command (work, bench, enqueue…):
//
//   const shutdown = handleShutdown()
//   try {
//     shutdown.graceful.addEventListener('abort', () => void worker.close())
//     shutdown.force.addEventListener('abort', () => void worker.close(true))
//     await worker.finished
//   } finally {
//     shutdown.dispose()
//   }
//   if (shutdown.exitCode !== undefined) this.exit(shutdown.exitCode)   // after printing a partial report
//
// Commands never call process.exit; the only exception is here: after the second signal, if the
// process is still alive `forceExitAfterMs` later (a handler that ignores its AbortSignal), it exits.
import {constants} from 'node:os'

export type ShutdownSignal = 'SIGINT' | 'SIGTERM'

export interface ShutdownOptions {
  /** Signals to handle. Default SIGINT and SIGTERM. */
  signals?: readonly ShutdownSignal[]
  /** After the second signal, exit anyway if still running this much later. Default 3000 ms; 0 = never. */
  forceExitAfterMs?: number
  /** Called on every signal with how many have arrived (1 = graceful, 2+ = force); e.g. to print a hint. */
  onSignal?: (signal: ShutdownSignal, count: number) => void
}

export interface ShutdownHandle {
  /** Aborted on the first signal (`reason` is the signal name): stop taking new work, drain what is in hand. */
  readonly graceful: AbortSignal
  /** Aborted on the second signal: stop now. Aborting it also aborts `graceful`. */
  readonly force: AbortSignal
  /** The first signal received, if any. */
  readonly received: ShutdownSignal | undefined
  /** 128 + the first signal's number once one arrived, else undefined. */
  readonly exitCode: number | undefined
  /** Behave as if a signal arrived (tests, or a command that stops itself the same way). */
  trigger(signal?: ShutdownSignal): void
  /** Removes the handlers: Node's default (die on the signal) applies again. Idempotent. */
  dispose(): void
}

/** 128 + n: the exit status a shell reports for a process ended by signal n. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0)
}

export function handleShutdown(options: ShutdownOptions = {}): ShutdownHandle {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM']
  const forceExitAfterMs = options.forceExitAfterMs ?? 3000
  const graceful = new AbortController()
  const force = new AbortController()
  let received: ShutdownSignal | undefined
  let count = 0
  let disposed = false

  const onSignal = (signal: ShutdownSignal): void => {
    count++
    received ??= signal
    if (!graceful.signal.aborted) graceful.abort(signal)
    if (count >= 2 && !force.signal.aborted) {
      force.abort(signal)
      if (forceExitAfterMs > 0) {
        // unref'd: never keeps a finished process alive, only ends a stuck one
        setTimeout(() => process.exit(signalExitCode(received!)), forceExitAfterMs).unref()
      }
    }
    options.onSignal?.(signal, count)
  }
  const listeners = new Map(signals.map((s) => [s, () => onSignal(s)] as const))
  for (const [signal, listener] of listeners) process.on(signal, listener)

  return {
    graceful: graceful.signal,
    force: force.signal,
    get received() {
      return received
    },
    get exitCode() {
      return received === undefined ? undefined : signalExitCode(received)
    },
    trigger(signal: ShutdownSignal = 'SIGINT') {
      onSignal(signal)
    },
    dispose() {
      if (disposed) return
      disposed = true
      for (const [signal, listener] of listeners) process.off(signal, listener)
    },
  }
}

export interface Interrupt {
  /** Aborted on the first SIGINT/SIGTERM; `signal.reason` is the signal name. */
  readonly signal: AbortSignal
  /** Exit code for the signal that arrived (130 for SIGINT, 143 for SIGTERM), once one has. */
  readonly exitCode: number | undefined
  /** Stops listening; the default behaviour of the signals returns. */
  dispose(): void
}

/**
 * The simple form for commands with nothing to drain (enqueue…): the first signal aborts `signal`,
 * a second one exits at once with 128+n.
 */
export function onInterrupt(options: {onFirst?: (name: NodeJS.Signals) => void; err?: NodeJS.WritableStream} = {}): Interrupt {
  const handle = handleShutdown({
    forceExitAfterMs: 0,
    onSignal(signal, count) {
      if (count === 1) return options.onFirst?.(signal)
      const err = options.err ?? process.stderr
      err.write(`\n${signal} again: stopping now\n`)
      process.exit(signalExitCode(signal))
    },
  })
  return {
    signal: handle.graceful,
    get exitCode() {
      return handle.exitCode
    },
    dispose: () => handle.dispose(),
  }
}
