import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {UsageError} from '../kernel/errors.js'
import {safeLine} from '../kernel/terminal.js'
import {completions, completionScript, lineWords, type CompletableCommand} from '../services/complete.js'

export default class Completion extends BaseCommand<typeof Completion> {
  // reads the manifest and the config file only: no connection flags
  static override baseFlags = {} as typeof BaseCommand.baseFlags
  static override enableJsonFlag = false
  static override strict = false
  static override summary = 'Print the shell completion script (bash or zsh) for commands, flags, context and queue names.'
  static override description = 'Completes commands and topics, each command\'s flags, context names (after --context, and for context use/remove) from the config file, and queue names as the target had them when its queues were last listed (by inspect, top or find --all; kept in $XDG_CACHE_HOME/queuectl/queues.json, keyed by the URL without its secrets). No broker is asked at a TAB.'
  static override examples = [
    {description: 'bash: add to ~/.bashrc', command: 'source <(<%= config.bin %> <%= command.id %> bash)'},
    {description: 'zsh: add to ~/.zshrc', command: 'source <(<%= config.bin %> <%= command.id %> zsh)'},
  ]
  static override args = {shell: Args.string({description: 'bash or zsh (default: from $SHELL).', ignoreStdin: true})}
  static override flags = {
    complete: Flags.boolean({hidden: true, summary: 'Print the candidates for the command line after --, one a line (what the script calls).'}),
    'colon-breaks': Flags.boolean({hidden: true, summary: 'The shell breaks words at ":" (bash): print each candidate from after the last ":" of the word.'}),
  }

  async run(): Promise<unknown> {
    if (this.flags.complete) {
      // the script gives the line up to the cursor, as one word after --
      const line = this.argv.slice(this.argv.indexOf('--') + 1).join(' ')
      const commands = this.config.commands as unknown as CompletableCommand[]
      for (const word of await completions(lineWords(line), commands, {colonBreaks: this.flags['colon-breaks']})) this.io.out.write(`${safeLine(word)}\n`)
      return undefined
    }
    const shell = this.args.shell ?? (/zsh$/.test(process.env.SHELL ?? '') ? 'zsh' : 'bash')
    if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`no completion for "${shell}" — give bash or zsh`)
    this.io.out.write(completionScript(shell, this.config.bin))
    return undefined
  }
}
