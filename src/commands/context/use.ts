import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {getContext, loadConfig, saveConfig} from '../../services/config.js'
import {redactUrl} from '../../kernel/redact.js'

export default class ContextUse extends BaseCommand<typeof ContextUse> {
  // works on the config file only: no connection flags in its help or its parsing
  static override baseFlags = {} as typeof BaseCommand.baseFlags
  static override completeArgs = 'contexts' as const
  static override summary = 'Make a saved context the current one.'
  static override examples = ['<%= config.bin %> <%= command.id %> prod-rabbit']
  static override args = {name: Args.string({ignoreStdin: true, description: 'Context name.', required: true})}

  async run(): Promise<unknown> {
    const config = await loadConfig()
    const context = getContext(config, this.args.name)
    config.currentContext = this.args.name
    await saveConfig(config)
    if (!this.jsonEnabled()) this.log(`now using "${this.args.name}" → ${redactUrl(context.url)}`)
    return {current: this.args.name, url: redactUrl(context.url)}
  }
}
