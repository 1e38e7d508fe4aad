// Everything a command prints goes through here: tables (one formatter for every command), JSON,
// NDJSON, colour (off with NO_COLOR or when not a TTY) and the progress line on stderr.
import {createRequire} from 'node:module'
import type TableType from 'cli-table3'
import {redactValue} from './redact.js'
import {jsonEscaped, safeLine} from './terminal.js'

// cli-table3 costs ~40 ms to load: only commands that print a table pay for it
const loadTable = () => createRequire(import.meta.url)('cli-table3') as typeof TableType

export function colorEnabled(stream: {isTTY?: boolean} = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false
  if (env.FORCE_COLOR !== undefined) return true
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

const CODES = {bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39]} as const
export type Style = keyof typeof CODES

export function paint(text: string, style: Style, enabled = colorEnabled()): string {
  if (!enabled) return text
  const [open, close] = CODES[style]
  return `\u001B[${open}m${text}\u001B[${close}m`
}

export interface Column<Row> {
  header: string
  value: (row: Row) => string | number | undefined
  align?: 'left' | 'right'
  style?: (row: Row) => Style | undefined
}

/** A borderless, aligned table (kubectl style): readable on a TTY, greppable in a log. */
export function renderTable<Row>(columns: Column<Row>[], rows: Row[], color = colorEnabled()): string {
  const none = ''
  const Table = loadTable()
  const table = new Table({
    head: columns.map((c) => paint(c.header.toUpperCase(), 'bold', color)),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 2, compact: true},
    chars: {
      top: none, 'top-mid': none, 'top-left': none, 'top-right': none,
      bottom: none, 'bottom-mid': none, 'bottom-left': none, 'bottom-right': none,
      left: none, 'left-mid': none, mid: none, 'mid-mid': none,
      right: none, 'right-mid': none, middle: none,
    },
  })
  for (const row of rows) {
    table.push(
      columns.map((c) => {
        const value = c.value(row)
        // a cell may hold a broker's bytes (a name, a payload, an error): escaped for the terminal
        const text = value === undefined ? '-' : safeLine(String(value))
        const style = c.style?.(row)
        return style ? paint(text, style, color) : text
      }),
    )
  }
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

/** One JSON value a line, secrets redacted in each string (never in the joined text). */
export function ndjsonLine(value: unknown): string {
  return jsonEscaped(JSON.stringify(redactValue(value)))
}

/** A single updating line on stderr, only when stderr is a TTY; throttled. */
export class ProgressLine {
  private last = 0
  private shown = false
  constructor(
    private readonly stream: NodeJS.WritableStream & {isTTY?: boolean} = process.stderr,
    private readonly everyMs = 100,
  ) {}

  get enabled(): boolean {
    return Boolean(this.stream.isTTY)
  }

  update(text: string, force = false): void {
    if (!this.enabled) return
    const now = Date.now()
    if (!force && now - this.last < this.everyMs) return
    this.last = now
    this.shown = true
    this.stream.write(`\r\u001B[2K${text}`)
  }

  done(): void {
    if (this.shown) this.stream.write('\r\u001B[2K')
    this.shown = false
  }
}
