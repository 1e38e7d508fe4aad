// Destructive commands ask first on a terminal and need --yes anywhere else: a pipeline never
// deletes by accident, and nothing is touched before the answer.
import {createInterface} from 'node:readline/promises'
import {UsageError} from '../../kernel/errors.js'

export interface ConfirmOptions {
  yes: boolean
  /** What will happen, as a question: "remove 42 waiting messages from emails on redis://…?" */
  question: string
  /** The command line to suggest, --yes included: the invocation's own, so it names the same target. */
  retryHint: string
  input?: NodeJS.ReadableStream & {isTTY?: boolean}
  output?: NodeJS.WritableStream & {isTTY?: boolean}
}

/** Resolves true to go ahead, false when the user said no; throws (exit 2) when nobody can be asked. */
export async function confirmDestructive(options: ConfirmOptions): Promise<boolean> {
  if (options.yes) return true
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stderr
  if (!input.isTTY || !output.isTTY) {
    throw new UsageError(`refusing to ${options.question.replace(/\?$/, '')} without confirmation: not a terminal — nothing was changed; add --yes: ${options.retryHint}`)
  }
  const rl = createInterface({input, output})
  try {
    const answer = await rl.question(`${options.question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
