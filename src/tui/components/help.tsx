// The `?` screen: every key, grouped as in k9s.
import {Box} from 'ink'
import {Text} from './text.js'

const HELP: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]> = [
  ['General', [['?', 'this help (any key closes it)'], ['q  ctrl-c', 'quit'], ['p', 'pause / resume refreshing'], [':', 'jump to a queue by name']]],
  ['Queue list', [['↑↓ j k  PgUp PgDn  g G', 'move'], ['Enter', 'open the queue'], ['/', 'filter (!text excludes; Esc clears)'], ['s  S', 'next sort column  /  reverse order']]],
  [
    'Queue detail',
    [
      ['Esc  ←', 'back to the list'],
      ['↑↓', 'select a message'],
      ['Enter  →', 'view its payload (↑↓ scroll, Esc back)'],
      ['Tab', 'peek at the next state (waiting, delayed, dead…)'],
      ['r', 'peek again'],
      ['/', 'filter the peeked messages with CEL, as --where (Esc clears)'],
      ['D', 'purge the state shown (asks first)'],
      ['R', 'retry dead messages (asks first)'],
      ['M', 'move waiting messages to another queue (asks first)'],
      ['P', 'pause / resume the queue, where it can (offered only there)'],
      ['R  D  M  (filtered)', 'act on exactly the filtered jobs (asks first, with their count)'],
    ],
  ],
]

export function Help({width, height}: {width: number; height: number}) {
  const lines: {text: string; bold?: boolean}[] = [{text: 'queue top — keys', bold: true}]
  for (const [group, keys] of HELP) {
    lines.push({text: group, bold: true})
    for (const [k, what] of keys) lines.push({text: `  ${k.padEnd(24)} ${what}`})
  }
  return (
    <Box flexDirection="column" width={width}>
      {lines.slice(0, Math.max(1, height)).map((l, i) => (
        <Text key={i} bold={l.bold} wrap="truncate">
          {l.text}
        </Text>
      ))}
    </Box>
  )
}
