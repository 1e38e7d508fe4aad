// The one place signals are handled. The first SIGINT/SIGTERM aborts `signal` (callers stop
// taking new work and finish what is in flight); a second one exits at once with 128+n.
import {constants} from 'node:os'

export interface Interrupt {
  /** Aborted on the first SIGINT/SIGTERM; `signal.reason` is the signal name. */
  readonly signal: AbortSignal
  /** Exit code for the signal that arrived (130 for SIGINT, 143 for SIGTERM), once one has. */
  readonly exitCode: number | undefined
  /** Stops listening; the default behaviour of the signals returns. */
  dispose(): void
}

export function onInterrupt(options: {onFirst?: (name: NodeJS.Signals) => void} = {}): Interrupt {
  const controller = new AbortController()
  let exitCode: number | undefined
  const handler = (name: NodeJS.Signals) => {
    const code = 128 + (constants.signals[name] ?? 2)
    if (controller.signal.aborted) {
      process.stderr.write(`\n${name} again: stopping now\n`)
      process.exit(code)
    }
    exitCode = code
    controller.abort(name)
    options.onFirst?.(name)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode
    },
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
