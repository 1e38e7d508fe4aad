// `--where`: which jobs a command looks at or acts on, written in CEL (the Common Expression
// Language of Kubernetes admission rules and kafka-ui), evaluated by @marcbachmann/cel-js.
// Why CEL and this library: CEL is a boolean filter language with C-like operators that operators
// already know (`name == "email" && body.tenant == 42`), evaluated synchronously (JSONata 2's
// evaluate is a Promise per job); this implementation is maintained, ESM, zero dependencies,
// ~280 KB, checks the expression against the declared variables before the first job (an unknown
// field is an error with its column, not "no matches"), and evaluates ~3.5 M jobs/s here.
// It is loaded lazily: only commands given --where pay for it.
import type {Message, PeekMatch} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {bodyOf, payloadText} from '../envelope.js'

/** The variables an expression sees, with what they hold (for help and errors). */
export const WHERE_VARIABLES: Record<string, string> = {
  id: 'the job id (string)',
  queue: 'the queue (string)',
  name: 'the job or task name ("" when none)',
  body: 'the payload decoded from JSON (or the library\'s decoded task: args, kwargs…); null when not JSON',
  payload: 'the payload as text ("" when it is binary)',
  headers: 'map of header name → value',
  attempts: 'deliveries so far (int)',
  state: 'waiting, inflight, delayed, retry, dead, completed or paused',
  enqueuedAt: 'when it was enqueued (timestamp; null when unknown)',
  age: 'how long ago it was enqueued (duration; null when unknown)',
  availableAt: 'when a delayed job becomes due (timestamp; null)',
  lastError: 'the last failure\'s message ("" when none)',
  priority: 'its priority (null when none)',
  contentType: 'its content type ("" when none)',
  raw: 'the library\'s own form of the job (BullMQ hash fields, Sidekiq JSON, pg-boss row…)',
}

export const WHERE_EXAMPLE = 'name == "email" && body.tenant == 42 && age < duration("1h")'

export interface Where {
  /** The expression as the user wrote it (for the audit log). */
  readonly text: string
  /** Whether the job matches. An expression that fails on a job (a missing key, a type mismatch) does not match it. */
  test(message: Message): boolean
  /** How many jobs the expression failed on, and the first failure, for a note. */
  readonly failures: {count: number; first?: string}
  /** The equalities the expression requires (its top-level `&&` of `field == literal`), for a broker to filter on first. */
  readonly pushdown?: PeekMatch
}

type Cel = typeof import('@marcbachmann/cel-js/evaluator')

let cel: Promise<Cel> | undefined
const loadCel = (): Promise<Cel> => (cel ??= import('@marcbachmann/cel-js/evaluator'))

/** Compiles `--where` (refusing a syntax or type mistake with its column), ready to test messages. */
export async function compileWhere(text: string, flag = '--where'): Promise<Where> {
  if (text.trim() === '') throw new UsageError(`${flag} is empty — write a condition, e.g. ${flag} '${WHERE_EXAMPLE}'`)
  const compiled = compileWith(await loadCel(), text)
  if ('error' in compiled) throw new UsageError(`${flag} ${compiled.error} — e.g. ${flag} '${WHERE_EXAMPLE}'; fields: ${Object.keys(WHERE_VARIABLES).join(', ')}`)
  return compiled.where
}

/** A synchronous compiler, once CEL is loaded: for `top`'s `/` prompt, which checks as the user types. */
export async function loadWhereCompiler(): Promise<(text: string) => {where: Where} | {error: string}> {
  const lib = await loadCel()
  return (text) => compileWith(lib, text)
}

function compileWith({Environment, Duration}: Cel, text: string): {where: Where} | {error: string} {
  const env = new Environment()
  for (const v of ['id', 'queue', 'name', 'payload', 'state', 'lastError', 'contentType']) env.registerVariable(v, 'string')
  env.registerVariable('headers', 'map<string, string>')
  for (const v of ['body', 'raw', 'attempts', 'enqueuedAt', 'age', 'availableAt', 'priority']) env.registerVariable(v, 'dyn')
  let program: ReturnType<typeof env.parse>
  try {
    program = env.parse(text)
    const checked = program.check()
    if (!checked.valid) throw checked.error
    if (checked.type !== 'bool' && checked.type !== 'dyn') throw new Error(`the expression gives ${/^[aeiou]/.test(checked.type ?? '') ? 'an' : 'a'} ${checked.type}, not true or false`)
  } catch (error) {
    return {error: describeCelError(error, text)}
  }
  const failures: {count: number; first?: string} = {count: 0}
  const now = Date.now()
  const pushdown = pushdownOf(program.ast)
  const where: Where = {
    text,
    failures,
    ...(pushdown ? {pushdown} : {}),
    test(message) {
      try {
        return program(envelopeOf(message, now, Duration)) === true
      } catch (error) {
        failures.count++
        failures.first ??= `${message.id}: ${firstLine(error)}`
        return false
      }
    },
  }
  return {where}
}

/** The CEL error as one line: its summary and the column of the mistake. */
export function describeCelError(error: unknown, text: string): string {
  const e = error as {summary?: string; message?: string; node?: {pos?: number}; range?: {start?: number}}
  const summary = e.summary ?? firstLine(error)
  const pos = e.range?.start ?? e.node?.pos
  if (pos === undefined) return `"${text}": ${summary}`
  const near = text.slice(pos, pos + 12)
  return `"${text}": ${summary} at column ${pos + 1}${near ? ` (near "${near}")` : ' (at the end)'}`
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.trim()
}

type DurationCtor = Cel['Duration']

/** The envelope as CEL sees it: absent optional fields are "" or null, never missing. */
export function envelopeOf(m: Message, now: number, Duration: DurationCtor): Record<string, unknown> {
  const body = bodyOf(m)
  return {
    id: m.id,
    queue: m.queue,
    name: m.name ?? '',
    body: body === undefined ? null : body,
    payload: payloadText(m.payload) ?? '',
    headers: m.headers,
    attempts: BigInt(m.attempts),
    state: m.state,
    enqueuedAt: m.enqueuedAt === undefined ? null : new Date(m.enqueuedAt),
    age: m.enqueuedAt === undefined ? null : Duration.fromMilliseconds(Math.max(0, now - m.enqueuedAt)),
    availableAt: m.availableAt === undefined ? null : new Date(m.availableAt),
    lastError: m.lastError ?? '',
    priority: m.priority === undefined ? null : BigInt(Math.trunc(m.priority)),
    contentType: m.contentType ?? '',
    raw: m.raw === undefined ? null : m.raw,
  }
}

/**
 * The retired `move --filter` syntax (`name=="email" and payload~"x"`), rewritten into CEL:
 * `and` → `&&`, `field~"text"` → `field.contains("text")`; comparisons are already CEL.
 */
export function filterToWhere(filter: string): string {
  return filter
    .replace(/\s+and\s+/gi, ' && ')
    .replace(/([A-Za-z][\w.]*)\s*~\s*("(?:[^"\\]|\\.)*"|'[^']*')/g, '$1.contains($2)')
}

/** `--where`, or the retired `--filter` rewritten (with a note showing the new form); both: refused. */
export async function whereFromFlags(flags: {where?: string; filter?: string}, note: (line: string) => void): Promise<Where | undefined> {
  if (flags.where !== undefined && flags.filter !== undefined) throw new UsageError('--filter and --where both given — keep --where (--filter is its retired form)')
  if (flags.where !== undefined) return compileWhere(flags.where)
  if (flags.filter === undefined) return undefined
  const rewritten = filterToWhere(flags.filter)
  const where = await compileWhere(rewritten, '--filter (retired: use --where)')
  note(`note: --filter is retired; this ran as --where '${rewritten}'`)
  return where
}

interface Node {
  op: string
  args: unknown
}

/**
 * The conjuncts of a top-level `&&` chain that are `path == literal` (either side): each is
 * necessary for a match, so a broker may filter on any of them first. Undefined when none.
 */
export function pushdownOf(ast: unknown): PeekMatch | undefined {
  const all: PeekMatch['all'] = []
  const walk = (node: Node): void => {
    if (node.op === '&&') {
      for (const side of node.args as Node[]) walk(side)
      return
    }
    if (node.op !== '==') return
    const [a, b] = node.args as [Node, Node]
    const path = pathOf(a) ?? pathOf(b)
    const value = literalOf(b) ?? literalOf(a)
    if (path && value !== undefined) all.push({path, equals: value})
  }
  walk(ast as Node)
  return all.length > 0 ? {all} : undefined
}

function pathOf(node: Node): string[] | undefined {
  if (node.op === 'id') return [node.args as string]
  if (node.op !== '.') return undefined
  const [inner, field] = node.args as [Node, string]
  const head = pathOf(inner)
  return head ? [...head, field] : undefined
}

function literalOf(node: Node): string | number | boolean | undefined {
  if (node.op !== 'value') return undefined
  const v = node.args as unknown
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(v)
  return undefined
}
