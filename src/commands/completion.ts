import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {UsageError} from '../kernel/errors.js'
import {safeLine} from '../kernel/terminal.js'
import {completions, completionScript, type CompletableCommand} from '../services/complete.js'

export default class Completion extends BaseCommand<typeof Completion> {
  // reads the manifest and the config file only: no connection flags
  static override baseFlags = {} as typeof BaseCommand.baseFlags
  static override enableJsonFlag = false
  static override strict = false
  static override summary = 'Print the shell completion script (bash or zsh) for commands, flags and context names.'
  static override description = 'Completes commands and topics, each command\'s flags, and context names (after --context, and for context use/remove) from the config file; queue names are not completed, since that would ask a broker at every TAB.'
  static override examples = [
    {description: 'bash: add to ~/.bashrc', command: 'source <(<%= config.bin %> <%= command.id %> bash)'},
    {description: 'zsh: add to ~/.zshrc', command: 'source <(<%= config.bin %> <%= command.id %> zsh)'},
  ]
  static override args = {shell: Args.string({description: 'bash or zsh (default: from $SHELL).', ignoreStdin: true})}
  static override flags = {
    complete: Flags.boolean({hidden: true, summary: 'Print the candidates for the words after --, one a line (what the script calls).'}),
  }

  async run(): Promise<unknown> {
    if (this.flags.complete) {
      const words = this.argv.slice(this.argv.indexOf('--') + 1)
      const commands = this.config.commands as unknown as CompletableCommand[]
      for (const word of await completions(words.length > 0 ? words : [''], commands)) this.io.out.write(`${safeLine(word)}\n`)
      return undefined
    }
    const shell = this.args.shell ?? (/zsh$/.test(process.env.SHELL ?? '') ? 'zsh' : 'bash')
    if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`no completion for "${shell}" — give bash or zsh`)
    this.io.out.write(completionScript(shell, this.config.bin))
    return undefined
  }
}
