import {Command, Flags} from '@oclif/core'

// The baseline: an oclif command that does nothing but print.
export default class Hello extends Command {
  static summary = 'Say hello.'
  static flags = {name: Flags.string()}
  async run() {
    const {flags} = await this.parse(Hello)
    this.log(`hello ${flags.name ?? 'world'}`)
  }
}
