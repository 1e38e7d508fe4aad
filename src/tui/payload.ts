// The payload viewer's text: JSON pretty-printed, UTF-8 text as is, anything else as a hex dump
// (offset, 16 bytes, printable ASCII), so a binary payload never garbles the terminal.
import type {Message} from '../broker/contract.js'
import {bodyOf, payloadText} from '../services/envelope.js'
import {formatBytes} from '../kernel/units.js'

export function hexDump(bytes: Buffer, maxBytes = 4096): string[] {
  const lines: string[] = []
  const n = Math.min(bytes.length, maxBytes)
  for (let off = 0; off < n; off += 16) {
    const chunk = bytes.subarray(off, Math.min(off + 16, n))
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`)
  }
  if (bytes.length > n) lines.push(`… ${formatBytes(bytes.length - n)} more`)
  return lines
}

// control characters other than newline and tab would move the cursor or change colours
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/

export function payloadLines(message: Message): {kind: 'json' | 'text' | 'binary'; lines: string[]} {
  const body = bodyOf(message)
  if (body !== undefined) return {kind: 'json', lines: JSON.stringify(body, null, 2).split('\n')}
  const text = payloadText(message.payload)
  if (text !== undefined && !CONTROL.test(text)) return {kind: 'text', lines: text.replace(/\t/g, '  ').split('\n')}
  return {kind: 'binary', lines: hexDump(message.payload)}
}

/** The facts above the payload: id, name, attempts, state, times, headers, last error. */
export function messageFacts(message: Message, now = Date.now()): string[] {
  const facts: string[] = [`id ${message.id}${message.name ? `  name ${message.name}` : ''}  state ${message.state}  attempts ${message.attempts}`]
  const times: string[] = []
  if (message.enqueuedAt !== undefined) times.push(`enqueued ${new Date(message.enqueuedAt).toISOString()}`)
  if (message.availableAt !== undefined && message.availableAt > now) times.push(`due ${new Date(message.availableAt).toISOString()}`)
  times.push(`${formatBytes(message.payload.length)}${message.contentType ? ` ${message.contentType}` : ''}`)
  facts.push(times.join('  '))
  const headers = Object.entries(message.headers)
  if (headers.length > 0) facts.push(`headers ${headers.map(([k, v]) => `${k}=${v}`).join(' ')}`)
  if (message.lastError) facts.push(`last error: ${message.lastError.split('\n')[0]}`)
  if (message.undecodable) facts.push(`undecodable: ${message.undecodable}`)
  return facts
}
