import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {configPath, loadConfig, saveConfig} from '../../services/config.js'
import {UsageError} from '../../kernel/errors.js'
import {redactUrl} from '../../kernel/redact.js'
import {parseBrokerUrl} from '../../adapters/registry.js'
import {transportOptionsOf, type ConnectionFlagValues} from '../../services/targets.js'

export default class ContextAdd extends BaseCommand<typeof ContextAdd> {
  static override summary = 'Save a broker URL under a name.'
  static override description = `Contexts live in $XDG_CONFIG_HOME/queuectl/config.json (mode 0600, since URLs may hold passwords). The first context added becomes the current one. A transport's connection options given with it (--mgmt-url, --endpoint) are saved with it.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> local redis://127.0.0.1:6379',
    '<%= config.bin %> <%= command.id %> prod-rabbit amqps://ops:secret@rabbit.internal/prod --mgmt-url https://rabbit.internal:15671 --use',
  ]

  static override args = {
    name: Args.string({ignoreStdin: true, description: 'Context name.', required: true}),
    url: Args.string({ignoreStdin: true, description: 'Broker URL.', required: true}),
  }

  static override flags = {
    use: Flags.boolean({summary: 'Make it the current context.'}),
    force: Flags.boolean({summary: 'Replace a context of the same name.'}),
  }

  async run(): Promise<unknown> {
    const {name, url} = this.args
    if (!/^[\w.-]+$/.test(name)) throw new UsageError(`context name "${name}" may only hold letters, digits, ".", "_" and "-"`)
    parseBrokerUrl(url)
    const config = await loadConfig()
    if (config.contexts[name] && !this.flags.force) {
      throw new UsageError(`context "${name}" already exists — pass --force to replace it`)
    }
    // the transport options given with it (--mgmt-url…) are kept with the context
    const options = transportOptionsOf(this.flags as unknown as ConnectionFlagValues)
    config.contexts[name] = {url, ...(Object.keys(options).length > 0 ? {options} : {})}
    if (this.flags.use || !config.currentContext) config.currentContext = name
    await saveConfig(config)
    const result = {name, url: redactUrl(url), current: config.currentContext === name, path: configPath()}
    if (!this.jsonEnabled()) this.log(`added context "${name}" → ${result.url}${result.current ? ' (current)' : ''}`)
    return result
  }
}
