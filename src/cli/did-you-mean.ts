// "Did you mean" for a mistyped command, topic or flag: one line, exit 2, never a prompt (the
// user may be mid-incident, in a script or in CI), and the JSON error envelope under --json.
import type {Hook} from '@oclif/core'
import {editDistance, nearNames} from '../kernel/suggest.js'
import {ExitCode, UsageError} from '../kernel/errors.js'
import {redactText} from '../kernel/redact.js'
import {jsonEscaped, safeLine} from '../kernel/terminal.js'

interface Near {
  /** The words of the typed id this candidate replaces ("context lst"). */
  typed: string
  candidate: string
  distance: number
}

/**
 * The commands or topics nearest the typed words. oclif folds every word before the first flag into
 * the id (`enque x {}` → `enque:x:{}`), so each candidate is compared with as many words as it has.
 */
export function nearCommands(id: string, candidates: Iterable<string>): Near[] {
  const words = id.split(':')
  const near: Near[] = []
  for (const candidate of new Set(candidates)) {
    const size = candidate.split(':').length
    if (size > words.length) continue
    const typed = words.slice(0, size).join(' ')
    const spaced = candidate.replaceAll(':', ' ')
    const distance = editDistance(typed.toLowerCase(), spaced)
    const last = words[size - 1]!.toLowerCase()
    const lastWord = spaced.split(' ').at(-1)!
    const related = distance <= Math.max(2, Math.floor(lastWord.length / 3)) || (last.length >= 3 && lastWord.startsWith(last))
    if (related && typed !== spaced) near.push({typed, candidate: spaced, distance})
  }
  const best = Math.min(...near.map((n) => n.distance))
  return near.filter((n) => n.distance === best).slice(0, 3)
}

/** The one line for a command that does not exist. */
export function commandNotFoundMessage(id: string, bin: string, commandIds: Iterable<string>, topics: Iterable<string>): UsageError {
  const words = id.split(':')
  if (words[0]!.startsWith('-')) return new UsageError(`"${words[0]}" is a flag: it goes after the command (\`${bin} COMMAND ${words[0]}\`) — \`${bin} --help\` lists the commands`)
  if (words[0] === 'help') {
    // no help command: --help is the way, for the command meant
    const rest = words.length > 1 ? nearCommands(words.slice(1).join(':'), commandIds)[0]?.candidate ?? words.slice(1).join(' ') : undefined
    return new UsageError(`"help" is not a ${bin} command — use --help: \`${bin}${rest ? ` ${rest}` : ''} --help\``)
  }
  const near = nearCommands(id, [...commandIds, ...topics])
  if (near.length > 0) {
    const typed = near[0]!.typed
    return new UsageError(`"${typed}" is not a ${bin} command — did you mean ${near.map((n) => n.candidate).join(' or ')}?`, near.map((n) => n.candidate))
  }
  const topic = [...topics].includes(words[0]!) ? ` ${words[0]}` : ''
  const typed = words.slice(0, topic ? 2 : 1).join(' ')
  return new UsageError(`"${typed}" is not a ${bin} command — \`${bin}${topic} --help\` lists them`)
}

/** The one line for oclif's "Nonexistent flag: --peak" error, with the nearest flags of the command. */
export function unknownFlagsMessage(typed: readonly string[], flagNames: Iterable<string>, help: string): string {
  const names = [...flagNames]
  const flags = typed.map((arg) => arg.replace(/=.*$/s, ''))
  const near = flags.flatMap((flag) => {
    const bare = flag.replace(/^-+/, '')
    return nearNames(bare, names, 1).filter((n) => editDistance(n, bare) <= 3).map((n) => `--${n}`)
  })
  const hint = near.length > 0 ? `did you mean ${near.join(', ')}?` : `\`${help} --help\` lists the flags`
  return `Nonexistent flag${flags.length === 1 ? '' : 's'} ${flags.join(', ')} — ${hint}`
}

/** The command_not_found hook (package.json oclif.hooks): oclif loads it only when no command matched. */
const hook: Hook<'command_not_found'> = async function (options) {
  const {config} = options
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const error = commandNotFoundMessage(redactText(options.id), config.bin, ids, config.topics.map((t) => t.name))
  const argv = [options.id, ...(options.argv ?? [])]
  const end = argv.indexOf('--')
  if ((end === -1 ? argv : argv.slice(0, end)).includes('--json')) {
    process.stdout.write(`${jsonEscaped(JSON.stringify({error: {message: error.message, exitCode: error.exitCode, kind: error.name}}, null, 2))}\n`)
  } else {
    process.stderr.write(`${safeLine(`Error: ${error.message}`)}\n`)
  }
  this.exit(ExitCode.usage)
}

export default hook
