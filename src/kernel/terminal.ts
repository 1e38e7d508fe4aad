// Bytes from a broker (payloads, names, headers, errors) never reach a terminal raw: a control
// character could clear the screen, move the cursor, set the clipboard (OSC 52) or reorder the text
// around it (bidi overrides). Every human output shows them escaped, as \x1b, \u202e; JSON keeps
// the exact data (JSON-escaped).

// C0, DEL, C1, the line/paragraph separators and the bidi embeddings, overrides, isolates and marks
// eslint-disable-next-line no-control-regex
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
// the same, newline and tab kept: a multi-line payload view
// eslint-disable-next-line no-control-regex
const UNSAFE_BLOCK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
// our own colours (SGR: ESC [ digits m) and the progress line's erase (ESC [2K), nothing else
// eslint-disable-next-line no-control-regex
const OURS = /(\u001b\[[0-9;]*m|\r\u001b\[2K)/

const NAMED: Record<string, string> = {'\n': '\\n', '\t': '\\t', '\r': '\\r'}

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!
  return NAMED[ch] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/** One line safe for a terminal: every control character (newline and tab too) shown escaped. */
export function safeLine(text: string): string {
  return String(text).replace(UNSAFE_LINE, escapeChar)
}

/** Several lines safe for a terminal: newlines and tabs kept, every other control character escaped. */
export function safeBlock(text: string): string {
  return String(text).replace(UNSAFE_BLOCK, escapeChar)
}

/**
 * Text about to be written to a terminal by us: our colour codes kept, anything else escaped as
 * safeBlock does. The last guard; broker data is made safe where it is formatted.
 */
export function safeOutput(text: string): string {
  return String(text)
    .split(OURS)
    .map((part, i) => (i % 2 === 1 ? part : safeBlock(part)))
    .join('')
}

// what JSON.stringify leaves raw inside strings but a terminal may act on (C1 CSI, bidi, separators)
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** JSON text with those characters written as \uXXXX escapes: the same data for any parser, safe on a terminal. */
export function jsonEscaped(text: string): string {
  return text.replace(JSON_RAW, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
