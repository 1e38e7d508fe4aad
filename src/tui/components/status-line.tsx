// The line above the footer: the open prompt (filter, jump, move target), a confirmation
// question, the result of the last action, or the key hints of the current view.
import {Text} from './text.js'
import {clean} from '../columns.js'
import {detailHints, type DetailContext, type UiState} from '../keys.js'

const HINTS = {
  list: '? help  / filter  : jump  s sort  Enter open  p pause  q quit',
  payload: 'Esc back  ↑↓ scroll',
} as const

const PROMPTS = {filter: 'filter', jump: 'jump to queue', move: 'move waiting messages to queue', where: 'where (CEL)'} as const

/** `detail`: what the queue in detail supports, so only its keys are offered. */
export function StatusLine({ui, busy, detail}: {ui: UiState; busy?: string; detail?: DetailContext}) {
  if (ui.confirm) {
    return (
      <Text color="yellow" bold wrap="truncate">
        {ui.confirm.question} [y/N]
      </Text>
    )
  }
  if (ui.prompt) {
    return (
      <Text wrap="truncate">
        <Text color="cyan">{PROMPTS[ui.prompt.kind]}: </Text>
        {clean(ui.prompt.text)}
        <Text inverse> </Text>
        {ui.prompt.error ? <Text color="red">{`  ${clean(ui.prompt.error)}`}</Text> : null}
      </Text>
    )
  }
  if (busy) return <Text color="yellow" wrap="truncate">{busy}</Text>
  if (ui.status) return <Text color={ui.status.error ? 'red' : 'green'} wrap="truncate">{ui.status.text}</Text>
  const filter = ui.filter && ui.view === 'list' ? `filter: ${ui.filter}   ` : ui.where && ui.view === 'detail' ? `where: ${clean(ui.where)}   ` : ''
  return (
    <Text dimColor wrap="truncate">
      {filter}
      {ui.view === 'detail' ? detailHints(detail) : HINTS[ui.view]}
    </Text>
  )
}
