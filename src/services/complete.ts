// Shell completion: what may come next on a `queue …` command line. Commands and topics, a
// command's flags, and context names (after --context, and for `context use/remove`), all from
// data already on disk: the oclif manifest and the config file. No broker is contacted, so a
// TAB never waits on the network (queue names are not completed for that reason).
import {loadConfig} from './config.js'

export interface CompletableCommand {
  /** oclif id, "context:use". */
  id: string
  flags: Record<string, {char?: string; type: string; hidden?: boolean}>
  args: Record<string, unknown>
  hidden?: boolean
}

const CONTEXT_ARG_COMMANDS = new Set(['context:use', 'context:remove'])

/** Candidates for the last word of `words` (the word being typed; "" right after a space). */
export async function completions(words: string[], commands: readonly CompletableCommand[], configPath?: string): Promise<string[]> {
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  const visible = commands.filter((c) => !c.hidden)
  const command = matchCommand(before, visible)
  if (!command) {
    // the next word of a command or topic: "context" then "use", "list"…
    const path = before.filter((w) => !w.startsWith('-'))
    const next = new Set(visible.map((c) => c.id.split(':')).filter((p) => p.length > path.length && path.every((w, i) => p[i] === w)).map((p) => p[path.length]!))
    return [...next].filter((w) => w.startsWith(current)).sort()
  }
  const previous = before.at(-1)
  if (previous === '--context') return contextNames(current, configPath)
  if (previous?.startsWith('--') && command.flags[previous.slice(2)]?.type === 'option') return []
  if (current.startsWith('-')) {
    const names = Object.entries(command.flags).filter(([, f]) => !f.hidden).map(([name]) => `--${name}`)
    return [...names, '--help'].filter((n) => n.startsWith(current)).sort()
  }
  const positional = before.slice(command.id.split(':').length).filter((w, i, all) => !w.startsWith('-') && !isFlagValue(all[i - 1], command))
  if (CONTEXT_ARG_COMMANDS.has(command.id) && positional.length === 0) return contextNames(current, configPath)
  return []
}

function matchCommand(words: string[], commands: readonly CompletableCommand[]): CompletableCommand | undefined {
  let found: CompletableCommand | undefined
  for (let n = 1; n <= words.length; n++) {
    const id = words.slice(0, n).join(':')
    found = commands.find((c) => c.id === id) ?? found
  }
  return found
}

function isFlagValue(previous: string | undefined, command: CompletableCommand): boolean {
  return previous !== undefined && previous.startsWith('--') && !previous.includes('=') && command.flags[previous.slice(2)]?.type === 'option'
}

async function contextNames(prefix: string, configPath?: string): Promise<string[]> {
  try {
    const config = await loadConfig(configPath)
    return Object.keys(config.contexts).filter((n) => n.startsWith(prefix)).sort()
  } catch {
    return [] // a broken config file: no suggestions, never an error in the middle of a TAB
  }
}

/** The script a shell sources: it asks `queue completion --complete -- WORDS…` at each TAB. */
export function completionScript(shell: 'bash' | 'zsh', bin: string): string {
  const bash = [
    `_${bin}_complete() {`,
    `  local IFS=$'\\n'`,
    `  COMPREPLY=($(${bin} completion --complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))`,
    `}`,
    `complete -o default -F _${bin}_complete ${bin}`,
  ]
  if (shell === 'bash') return `# ${bin} completion for bash: add to ~/.bashrc:  source <(${bin} completion bash)\n${bash.join('\n')}\n`
  return `# ${bin} completion for zsh: add to ~/.zshrc:  source <(${bin} completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash.join('\n')}\n`
}
