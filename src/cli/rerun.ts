// The command line a hint tells the user to run: this very invocation (its --context, --url and
// every other flag kept, so it names the same target), with what the hint adds.
import {redactText} from '../kernel/redact.js'

/** One argument as a POSIX shell reads it back: bare when safe, otherwise in single quotes. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

/** `queue purge orders --context rabbit --yes`: the invocation's own words (passwords masked), then `extra`. */
export function rerunHint(bin: string, id: string | undefined, argv: readonly string[], extra: readonly string[]): string {
  const words = [...(id ? id.split(':') : []), ...argv.filter((arg) => !extra.includes(arg)), ...extra]
  return [bin, ...words.map((word) => shellWord(redactText(word)))].join(' ')
}
