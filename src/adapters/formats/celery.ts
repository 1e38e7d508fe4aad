// Celery's message protocol, version 2 (Celery ≥ 4; checked against Celery 5.2), transport-neutral:
// this file knows headers, properties and body bytes, not AMQP or Redis. An AMQP adapter puts the
// headers in AMQP headers and the properties in AMQP properties; a Redis (kombu) adapter wraps the
// same three in kombu's JSON envelope ({body: base64, headers, properties, content-type, …}).
//
//   headers:    lang, task (name), id, shadow, eta (ISO 8601), expires, group, group_index, retries,
//               timelimit [hard, soft], root_id, parent_id, argsrepr, kwargsrepr, origin, ignore_result
//   properties: correlation_id (= id), reply_to, content_type, content_encoding
//   body:       JSON [args, kwargs, {callbacks, errbacks, chain, chord}]
// Protocol 1 (Celery 3) kept everything in the body ({task, id, args, kwargs, retries, eta…}); we
// decode it too. Pickled bodies (application/x-python-serialize) are never unpickled.
import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

export const CELERY_CONTENT_TYPE = 'application/json'

/** What a producer says about a task; everything but `task` has Celery's default. */
export interface CeleryTaskSpec {
  task: string
  args?: unknown[]
  kwargs?: Record<string, unknown>
  id?: string
  /** Run no earlier than this (epoch ms). The worker holds the message until then. */
  eta?: number
  /** Discard when not started by then (epoch ms). */
  expires?: number
  retries?: number
  origin?: string
  rootId?: string
  parentId?: string
  group?: string
}

export interface CeleryEncoded {
  id: string
  headers: Record<string, unknown>
  properties: {correlationId: string; contentType: string; contentEncoding: 'utf-8'; replyTo?: string}
  body: Buffer
}

/** A decoded task, as `inspect` shows it. */
export interface CeleryTask {
  protocol: 1 | 2
  id: string
  task: string
  args: unknown[]
  kwargs: Record<string, unknown>
  embed?: Record<string, unknown>
  retries: number
  eta?: string
  expires?: string
  rootId?: string
  parentId?: string
  origin?: string
  argsrepr?: string
  kwargsrepr?: string
  group?: string
}

export function encodeCeleryTask(spec: CeleryTaskSpec): CeleryEncoded {
  if (!spec.task) throw new Error('a Celery task needs a name (the registered task, e.g. "proj.tasks.add")')
  const id = spec.id ?? randomUUID()
  const args = spec.args ?? []
  const kwargs = spec.kwargs ?? {}
  const headers: Record<string, unknown> = {
    lang: 'py',
    task: spec.task,
    id,
    shadow: null,
    eta: spec.eta === undefined ? null : celeryIsoformat(spec.eta),
    expires: spec.expires === undefined ? null : celeryIsoformat(spec.expires),
    group: spec.group ?? null,
    group_index: null,
    retries: spec.retries ?? 0,
    timelimit: [null, null],
    root_id: spec.rootId ?? id,
    parent_id: spec.parentId ?? null,
    argsrepr: pyRepr(args, true),
    kwargsrepr: pyRepr(kwargs),
    origin: spec.origin ?? `queuectl@${hostname()}`,
    ignore_result: false,
  }
  const body = Buffer.from(JSON.stringify([args, kwargs, {callbacks: null, errbacks: null, chain: null, chord: null}]), 'utf8')
  return {id, headers, properties: {correlationId: id, contentType: CELERY_CONTENT_TYPE, contentEncoding: 'utf-8'}, body}
}

/** An epoch-ms time as Celery writes eta/expires: Python's isoformat() of an aware UTC datetime. */
export function celeryIsoformat(ms: number): string {
  const iso = new Date(ms).toISOString() // 2030-01-02T03:04:05.678Z
  const millis = iso.slice(20, 23)
  // isoformat() leaves out a zero fraction and writes microseconds otherwise
  return `${iso.slice(0, 19)}${millis === '000' ? '' : `.${millis}000`}+00:00`
}

/**
 * Protocol-2 headers back from their text (how peek, export and move carry headers) to the types
 * Celery's worker reads: a header that was None is '' as text, and Celery 5.2 crashes on eta=''
 * (maybe_iso8601('') is None, then maybe_make_aware(None)); retries must be an int, timelimit a
 * pair, ignore_result a bool. Headers that are not Celery's stay text.
 */
export function celeryHeadersFromText(headers: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {...headers}
  for (const [key, text] of Object.entries(headers)) {
    if (NULLABLE_TEXT.has(key)) out[key] = text === '' || text === 'None' ? null : text
    else if (key === 'retries' || key === 'replaced_task_nesting') out[key] = wholeNumber(text) ?? 0
    else if (key === 'group_index') out[key] = wholeNumber(text) ?? null
    else if (key === 'ignore_result') out[key] = text === 'true' || text === 'True'
    else if (key === 'timelimit') out[key] = timeLimits(text)
    else if (key === 'stamped_headers' || key === 'stamps') out[key] = jsonOr(text, null)
  }
  return out
}

/** Protocol-2 headers that are a string or None. */
const NULLABLE_TEXT = new Set(['eta', 'expires', 'shadow', 'group', 'root_id', 'parent_id', 'argsrepr', 'kwargsrepr', 'origin'])

function wholeNumber(text: string): number | undefined {
  const n = Number(text)
  return text.trim() !== '' && Number.isSafeInteger(n) ? n : undefined
}

function jsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return fallback
  }
}

/** [hard, soft] seconds, each a number or None. */
function timeLimits(text: string): [number | null, number | null] {
  const value = jsonOr(text, null)
  if (!Array.isArray(value)) return [null, null]
  const limit = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  return [limit(value[0]), limit(value[1])]
}

/**
 * How a generic payload becomes a Celery call: a JSON array is the positional args; an object with
 * only `args` and/or `kwargs` keys is both; any other JSON object is the kwargs; an empty payload is
 * no arguments. Anything else is refused (a task's arguments must be JSON here).
 */
export function celeryArgsFromPayload(payload: Buffer | string): {args: unknown[]; kwargs: Record<string, unknown>} {
  const text = (typeof payload === 'string' ? payload : payload.toString('utf8')).trim()
  if (text === '') return {args: [], kwargs: {}}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error('a Celery task payload must be JSON: an array of args, an object of kwargs, or {"args": [...], "kwargs": {...}}')
  }
  if (Array.isArray(value)) return {args: value, kwargs: {}}
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj)
    if (keys.length > 0 && keys.every((k) => k === 'args' || k === 'kwargs')) {
      if (obj.args !== undefined && !Array.isArray(obj.args)) throw new Error('"args" of a Celery task payload must be an array')
      if (obj.kwargs !== undefined && (typeof obj.kwargs !== 'object' || obj.kwargs === null || Array.isArray(obj.kwargs))) {
        throw new Error('"kwargs" of a Celery task payload must be an object')
      }
      return {args: (obj.args as unknown[]) ?? [], kwargs: (obj.kwargs as Record<string, unknown>) ?? {}}
    }
    return {args: [], kwargs: obj}
  }
  return {args: [value], kwargs: {}}
}

/** True when the headers look like a Celery protocol-2 task (what a transport checks before decoding). */
export function isCeleryTaskHeaders(headers: Record<string, unknown> | undefined): boolean {
  return !!headers && typeof headers.task === 'string' && typeof headers.id === 'string'
}

/** Decodes a Celery message (protocol 2 from headers + body, or protocol 1 from the body alone). */
export function decodeCeleryTask(
  headers: Record<string, unknown>,
  body: Buffer,
  contentType?: string,
): {task: CeleryTask} | {error: string} {
  if (contentType && !/json/i.test(contentType)) {
    return {error: `Celery body in ${contentType} is not decoded (only JSON; pickle is never unpickled)`}
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (error) {
    return {error: `Celery body is not valid JSON: ${(error as Error).message}`}
  }
  if (isCeleryTaskHeaders(headers)) {
    if (!Array.isArray(parsed) || parsed.length < 2) return {error: 'Celery protocol-2 body is not [args, kwargs, embed]'}
    const [args, kwargs, embed] = parsed as [unknown, unknown, unknown]
    return {
      task: {
        protocol: 2,
        id: String(headers.id),
        task: String(headers.task),
        args: Array.isArray(args) ? args : [],
        kwargs: isObject(kwargs) ? kwargs : {},
        embed: isObject(embed) ? embed : undefined,
        retries: Number(headers.retries ?? 0) || 0,
        eta: str(headers.eta),
        expires: str(headers.expires),
        rootId: str(headers.root_id),
        parentId: str(headers.parent_id),
        origin: str(headers.origin),
        argsrepr: str(headers.argsrepr),
        kwargsrepr: str(headers.kwargsrepr),
        group: str(headers.group),
      },
    }
  }
  if (isObject(parsed) && typeof parsed.task === 'string' && typeof parsed.id === 'string') {
    return {
      task: {
        protocol: 1,
        id: parsed.id,
        task: parsed.task,
        args: Array.isArray(parsed.args) ? parsed.args : [],
        kwargs: isObject(parsed.kwargs) ? parsed.kwargs : {},
        retries: Number(parsed.retries ?? 0) || 0,
        eta: str(parsed.eta),
        expires: str(parsed.expires),
      },
    }
  }
  return {error: 'not a Celery task (no task/id in the headers or body)'}
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}

function str(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : String(v)
}

/** Python's repr of a JSON value, as Celery's argsrepr/kwargsrepr show it (args as a tuple). */
export function pyRepr(value: unknown, tuple = false): string {
  if (value === null || value === undefined) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value)
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
  if (Array.isArray(value)) {
    const items = value.map((v) => pyRepr(v))
    if (!tuple) return `[${items.join(', ')}]`
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
  return `{${entries.join(', ')}}`
}
