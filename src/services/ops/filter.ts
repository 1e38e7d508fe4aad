// `--filter` for move: which messages to take. Comparisons joined with "and" / "&&":
//   name=="email"   name!="email"   id=="…"   headers.tenant=="acme"   contentType=="application/json"
//   payload~"needle" (the payload text contains it)   attempts>=3
import type {Message} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {payloadText} from '../envelope.js'

export type MessageFilter = (message: Message) => boolean

const CLAUSE = /^\s*([A-Za-z][\w.-]*)\s*(==|!=|~|>=|<=|>|<)\s*(.+?)\s*$/

export function parseFilter(text: string): MessageFilter {
  const clauses = text.split(/\s+and\s+|\s*&&\s*/i).filter((c) => c.trim() !== '')
  if (clauses.length === 0) throw new UsageError('--filter is empty — write it like name=="email" or headers.tenant=="acme"')
  const tests = clauses.map((clause) => parseClause(clause))
  return (message) => tests.every((t) => t(message))
}

function unquote(raw: string, clause: string): string {
  if (/^".*"$/.test(raw)) {
    try {
      return JSON.parse(raw) as string
    } catch {
      throw new UsageError(`--filter ${clause}: ${raw} is not a valid quoted string`)
    }
  }
  if (/^'.*'$/.test(raw)) return raw.slice(1, -1)
  return raw
}

function parseClause(clause: string): MessageFilter {
  const m = CLAUSE.exec(clause)
  if (!m) throw new UsageError(`--filter "${clause.trim()}" is not a comparison — write it like name=="email", headers.tenant=="acme", payload~"urgent" or attempts>=3`)
  const [, field, op, rawValue] = m as unknown as [string, string, string, string]
  const value = unquote(rawValue, clause.trim())
  const get = fieldGetter(field, clause.trim())
  if (field === 'attempts' || field === 'priority') {
    const n = Number(value)
    if (!Number.isFinite(n)) throw new UsageError(`--filter ${clause.trim()}: ${field} is a number, "${value}" is not`)
    return (msg) => {
      const v = Number(get(msg))
      switch (op) {
        case '==': return v === n
        case '!=': return v !== n
        case '>': return v > n
        case '>=': return v >= n
        case '<': return v < n
        case '<=': return v <= n
        default: throw new UsageError(`--filter ${clause.trim()}: ${op} does not apply to a number`)
      }
    }
  }
  if (op !== '==' && op !== '!=' && op !== '~') throw new UsageError(`--filter ${clause.trim()}: ${field} is text — use ==, != or ~ (contains)`)
  return (msg) => {
    const v = get(msg)
    if (op === '~') return v !== undefined && String(v).includes(value)
    return op === '==' ? v === value : v !== value
  }
}

function fieldGetter(field: string, clause: string): (m: Message) => string | number | undefined {
  if (field.startsWith('headers.') || field.startsWith('header.')) {
    const key = field.slice(field.indexOf('.') + 1)
    return (m) => m.headers[key]
  }
  switch (field) {
    case 'name': return (m) => m.name
    case 'id': return (m) => m.id
    case 'contentType': return (m) => m.contentType
    case 'payload': return (m) => payloadText(m.payload)
    case 'attempts': return (m) => m.attempts
    case 'priority': return (m) => m.priority
    default:
      throw new UsageError(`--filter ${clause}: unknown field "${field}" — use name, id, headers.KEY, contentType, payload, attempts or priority`)
  }
}
