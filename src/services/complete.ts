// Shell completion: what may come next on a `queue …` command line. Commands and topics, a
// command's flags, context names (after --context, and for `context use/remove`), and queue names
// as the target had them when its queues were last listed (services/queue-cache.ts), all from data
// already on disk: the oclif manifest, the config file and the cache. No broker is contacted, so a
// TAB never waits on the network.
import {loadConfig} from './config.js'
import {cachedQueues} from './queue-cache.js'

export interface CompletableCommand {
  /** oclif id, "context:use". */
  id: string
  flags: Record<string, {char?: string; type: string; hidden?: boolean}>
  args: Record<string, unknown>
  hidden?: boolean
  /** What a command that takes any number of arguments takes (BaseCommand.completeArgs). */
  completeArgs?: 'queues' | 'contexts'
}

export interface CompletionOptions {
  configPath?: string
  cachePath?: string
  env?: NodeJS.ProcessEnv
  /** The shell breaks words at ':' (bash's COMP_WORDBREAKS): it replaces only what follows the last ':'. */
  colonBreaks?: boolean
}

// named arguments that are a queue of the target
const QUEUE_ARGS = new Set(['queue', 'source', 'destination'])

/** The words of a command line up to the cursor, after the program's name ("" last when it ends in a space). */
export function lineWords(line: string): string[] {
  const words = line.trimStart().split(/\s+/).slice(1).map((w) => w.replace(/^(['"])(.*)\1$/, '$2'))
  return words.length === 0 ? [''] : words
}

/** Candidates for the last word of `words` (the word being typed; "" right after a space). */
export async function completions(words: string[], commands: readonly CompletableCommand[], options: CompletionOptions = {}): Promise<string[]> {
  const found = await candidates(words, commands, options)
  const current = words.at(-1) ?? ''
  // bash puts each candidate in place of the text after the word's last ':'
  const cut = options.colonBreaks ? current.lastIndexOf(':') + 1 : 0
  return cut > 0 ? found.map((c) => c.slice(cut)) : found
}

async function candidates(words: string[], commands: readonly CompletableCommand[], options: CompletionOptions): Promise<string[]> {
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
  if (previous === '--context') return contextNames(current, options.configPath)
  if (previous === '--queue' && command.flags.queue?.type === 'option') return queueNames(before, current, options)
  if (previous?.startsWith('--') && command.flags[previous.slice(2)]?.type === 'option') return []
  if (current.startsWith('-')) {
    const names = Object.entries(command.flags).filter(([, f]) => !f.hidden).map(([name]) => `--${name}`)
    return [...names, '--help'].filter((n) => n.startsWith(current)).sort()
  }
  const positional = before.slice(command.id.split(':').length).filter((w, i, all) => !w.startsWith('-') && !isFlagValue(all[i - 1], command))
  const argName = Object.keys(command.args)[positional.length]
  const takes = command.completeArgs ?? (argName !== undefined && QUEUE_ARGS.has(argName) ? 'queues' : undefined)
  if (takes === 'contexts') return contextNames(current, options.configPath)
  if (takes === 'queues') return queueNames(before, current, options)
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

/** Queue names of the target the line names (--url, --context, QUEUE_URL, the current context), as last listed. */
async function queueNames(before: string[], prefix: string, options: CompletionOptions): Promise<string[]> {
  try {
    const url = await targetUrl(before, options)
    if (url === undefined) return []
    return (await cachedQueues(url, options.cachePath)).filter((q) => q.startsWith(prefix))
  } catch {
    return []
  }
}

async function targetUrl(words: string[], options: CompletionOptions): Promise<string | undefined> {
  const flag = (name: string, char?: string): string | undefined => {
    for (let i = words.length - 1; i >= 0; i--) {
      const w = words[i]!
      if (w.startsWith(`--${name}=`)) return w.slice(name.length + 3)
      if ((w === `--${name}` || (char && w === `-${char}`)) && i + 1 < words.length) return words[i + 1]
    }
    return undefined
  }
  const url = flag('url', 'u')
  if (url) return url
  const config = await loadConfig(options.configPath)
  const context = flag('context')
  if (context) return config.contexts[context]?.url
  const env = options.env ?? process.env
  if (env.QUEUE_URL) return env.QUEUE_URL
  return config.currentContext ? config.contexts[config.currentContext]?.url : undefined
}

/** The script a shell sources: it asks `queue completion --complete -- LINE` at each TAB (the line up to the cursor). */
export function completionScript(shell: 'bash' | 'zsh', bin: string): string {
  const bash = [
    `_${bin}_complete() {`,
    `  local IFS=$'\\n' colon=`,
    // the line up to the cursor, not COMP_WORDS: bash splits bullmq:emails into three words there
    `  [[ "$COMP_WORDBREAKS" == *:* ]] && colon=--colon-breaks`,
    `  COMPREPLY=($(${bin} completion --complete $colon -- "\${COMP_LINE:0:COMP_POINT}" 2>/dev/null))`,
    `}`,
    `complete -o default -F _${bin}_complete ${bin}`,
  ]
  if (shell === 'bash') return `# ${bin} completion for bash: add to ~/.bashrc:  source <(${bin} completion bash)\n${bash.join('\n')}\n`
  return `# ${bin} completion for zsh: add to ~/.zshrc:  source <(${bin} completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash.join('\n')}\n`
}
