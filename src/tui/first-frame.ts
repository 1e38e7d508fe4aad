// The first frame of `queue top`, written by hand before Ink and React have loaded (they take
// ~100-200 ms): the same lines the Connecting component then paints over it. No Ink here: the top
// command imports this statically.

export interface FirstFrameOptions {
  /** Redacted URLs being connected to. */
  urls: readonly string[]
  color: boolean
  columns?: number
  rows?: number
}

const ESC = '\u001B['

/** Enters the alternate screen and draws the "connecting" frame; runTop takes the screen over from there. */
export function firstFrame({urls, color, columns = 80, rows = 24}: FirstFrameOptions): string {
  const shown = urls.filter(Boolean)
  const text = shown.length > 0 ? `connecting to ${shown.join(', ')}…` : 'connecting…'
  const line = text.length > columns ? `${text.slice(0, Math.max(0, columns - 1))}…` : text
  // as Connecting: bold (cyan) title, dim status, "q quit" on the last line of a rows-1 high frame
  const title = color ? `${ESC}1m${ESC}36mqueue top${ESC}39m${ESC}22m` : `${ESC}1mqueue top${ESC}22m`
  const bottom = Math.max(3, rows - 1)
  return `${ESC}?1049h${ESC}H${ESC}2J${title}\r\n${ESC}2m${line}${ESC}22m${ESC}${bottom};1H${ESC}2mq quit${ESC}22m`
}
