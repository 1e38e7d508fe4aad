// oclif's help, with its first flag row kept aligned: oclif trims the whole FLAGS list, which takes
// the blank char column ("    --to-url") off the first row when a later flag has one ("-y, --yes").
import {CommandHelp, Help as OclifHelp} from '@oclif/core'

class AlignedCommandHelp extends CommandHelp {
  override renderList(input: (string | undefined)[][], opts: {indentation: number; multiline?: boolean; spacer?: string; stripAnsi?: boolean}): string {
    const out = super.renderList(input, opts)
    const first = input.find(([left, right]) => left || right)?.[0]
    const lead = first ? /^[ \t]*/.exec(first)![0] : ''
    // the multi-line layout trims every label alike; only the table layout loses the first row's lead
    const table = out.split('\n', 1)[0] !== first?.trim()
    return lead && table && !out.startsWith(lead) ? lead + out : out
  }
}

export default class Help extends OclifHelp {
  protected override CommandHelpClass = AlignedCommandHelp
}
