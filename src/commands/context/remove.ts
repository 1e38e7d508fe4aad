import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {getContext, loadConfig, saveConfig} from '../../services/config.js'

export default class ContextRemove extends BaseCommand<typeof ContextRemove> {
  // works on the config file only: no connection flags in its help or its parsing
  static override baseFlags = {} as typeof BaseCommand.baseFlags
  static override completeArgs = 'contexts' as const
  static override summary = 'Forget a saved context.'
  static override examples = ['<%= config.bin %> <%= command.id %> old-staging']
  static override args = {name: Args.string({ignoreStdin: true, description: 'Context name.', required: true})}

  async run(): Promise<unknown> {
    const config = await loadConfig()
    getContext(config, this.args.name)
    delete config.contexts[this.args.name]
    if (config.currentContext === this.args.name) config.currentContext = undefined
    await saveConfig(config)
    if (!this.jsonEnabled()) this.log(`removed context "${this.args.name}"`)
    return {removed: this.args.name}
  }
}
