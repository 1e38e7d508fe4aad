import {BaseCommand} from '../../cli/base-command.js'
import {loadConfig} from '../../services/config.js'
import {renderTable} from '../../kernel/output.js'
import {redactUrl} from '../../kernel/redact.js'

export default class ContextList extends BaseCommand<typeof ContextList> {
  // works on the config file only: no connection flags in its help or its parsing
  static override baseFlags = {} as typeof BaseCommand.baseFlags
  static override summary = 'List saved contexts (passwords redacted).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<unknown> {
    const config = await loadConfig()
    const rows = Object.entries(config.contexts).map(([name, c]) => ({
      name,
      url: redactUrl(c.url),
      current: name === config.currentContext,
      // options may be URLs with a password (a management API's)
      ...(c.options ? {options: Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, redactUrl(v)]))} : {}),
    }))
    if (!this.jsonEnabled()) {
      this.log(
        rows.length === 0
          ? 'no contexts — add one with `queue context add NAME URL`'
          : renderTable([{header: '', value: (r) => (r.current ? '*' : '')}, {header: 'name', value: (r) => r.name}, {header: 'url', value: (r) => r.url}], rows),
      )
    }
    return {current: config.currentContext, contexts: rows}
  }
}
