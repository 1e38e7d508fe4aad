// Where `enqueue` payloads come from — an argument, a file, or NDJSON on stdin — and their
// validation before anything is sent. Stdin is validated in full first (spooled to a temp file
// past a few MiB, so a huge input streams in bounded memory) and only then sent: a bad line 3
// of 10 means nothing was sent.
import {createReadStream, createWriteStream, type WriteStream} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {UsageError} from '../kernel/errors.js'
import {lineChunks} from './lines.js'

export type PayloadValidator = (value: unknown) => string | undefined

/** Compiles a JSON Schema file into a validator returning the first failing path and reason. */
export async function loadSchemaValidator(path: string): Promise<PayloadValidator> {
  let schema: unknown
  try {
    schema = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read the schema ${path}: ${(error as Error).message} — give a JSON Schema file`)
  }
  const {default: Ajv} = (await import('ajv')) as unknown as {default: new (o: object) => {compile(s: unknown): AjvValidate}}
  let validate: AjvValidate
  try {
    validate = new Ajv({allErrors: false, strict: false}).compile(schema)
  } catch (error) {
    throw new UsageError(`the schema ${path} is not a valid JSON Schema: ${(error as Error).message}`)
  }
  return (value) => {
    if (validate(value)) return undefined
    const e = validate.errors?.[0]
    return e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${namedProperty(e.params)}` : 'does not match the schema'
  }
}

interface AjvValidate {
  (value: unknown): boolean
  errors?: {instancePath: string; message?: string; params?: Record<string, unknown>}[] | null
}

/** The property Ajv's message leaves out ("must NOT have additional properties"): named, escaped as JSON. */
function namedProperty(params: Record<string, unknown> | undefined): string {
  const name = params?.additionalProperty ?? params?.propertyName ?? params?.unevaluatedProperty
  return typeof name === 'string' ? ` (${JSON.stringify(name)})` : ''
}

/** Parses and validates one payload; the error names where it came from. */
export function checkJsonPayload(text: string, where: string, validator?: PayloadValidator): void {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${where} is not valid JSON (${(error as Error).message}) — nothing was sent; fix it and run again`)
  }
  const problem = validator?.(value)
  if (problem) throw new UsageError(`${where} fails the schema at ${problem} — nothing was sent`)
}

const SPOOL_AFTER_BYTES = 8 * 1024 * 1024

/** NDJSON lines, validated, ready to be read again in order. */
export interface ValidatedLines {
  count: number
  bytes: number
  /** In memory: the lines themselves (a sync iterable: no promise a line); spooled: read back from the file. */
  lines(): Iterable<Line> | AsyncIterable<Line>
  /** The same lines a chunk at a time: in memory one chunk of them all; spooled, a promise a chunk read, not a line. */
  chunks(): Iterable<Line[]> | AsyncIterable<Line[]>
  dispose(): Promise<void>
}

export interface Line {
  text: string
  line: number
}

interface Spool {
  dir: string
  file: string
  out: WriteStream
}

/** Reads NDJSON, validates every non-blank line, keeps them in memory or spooled to a temp file. */
export async function readNdjson(
  input: Readable,
  options: {validator?: PayloadValidator; maxBytes?: number; onLine?: (n: number) => void} = {},
): Promise<ValidatedLines> {
  const kept: Line[] = []
  let spool: Spool | undefined
  let count = 0
  let bytes = 0
  let lineNo = 0
  try {
    for await (const chunk of lineChunks(input)) {
      // a chunk's spooled lines go out in one write, not one (awaited) write a line
      let spooled = ''
      for (const raw of chunk) {
        lineNo++
        const text = raw.trim()
        if (text === '') continue
        checkJsonPayload(text, `line ${lineNo}`, options.validator)
        const size = Buffer.byteLength(text)
        if (options.maxBytes !== undefined && size > options.maxBytes) {
          throw new UsageError(`line ${lineNo} is ${size} bytes, over the broker's limit of ${options.maxBytes} — nothing was sent`)
        }
        count++
        bytes += size
        options.onLine?.(count)
        if (!spool && bytes > SPOOL_AFTER_BYTES) {
          spool = await openSpool()
          spooled = kept.map((k) => `${k.line}\t${k.text}\n`).join('')
          kept.length = 0
        }
        if (spool) spooled += `${lineNo}\t${text}\n`
        else kept.push({text, line: lineNo})
      }
      if (spool && spooled !== '') await write(spool.out, spooled)
    }
  } catch (error) {
    if (spool) {
      spool.out.destroy()
      await rm(spool.dir, {recursive: true, force: true})
    }
    throw error
  }
  if (spool) await new Promise<void>((resolve, reject) => spool!.out.end((e?: Error | null) => (e ? reject(e) : resolve())))
  const file = spool?.file
  return {
    count,
    bytes,
    lines: () => (file ? eachOf(spooledChunks(file)) : kept),
    chunks: () => (file ? spooledChunks(file) : [kept]),
    async dispose() {
      if (spool) await rm(spool.dir, {recursive: true, force: true})
    },
  }
}

async function openSpool(): Promise<Spool> {
  const dir = await mkdtemp(join(tmpdir(), 'queuectl-spool-'))
  const file = join(dir, 'lines.ndjson')
  return {dir, file, out: createWriteStream(file)}
}

async function* spooledChunks(file: string): AsyncIterable<Line[]> {
  for await (const rows of lineChunks(createReadStream(file, {highWaterMark: 1024 * 1024}))) {
    yield rows.map((row) => {
      const tab = row.indexOf('\t')
      return {line: Number(row.slice(0, tab)), text: row.slice(tab + 1)}
    })
  }
}

async function* eachOf<T>(chunks: AsyncIterable<T[]>): AsyncIterable<T> {
  for await (const chunk of chunks) yield* chunk
}

function write(out: WriteStream, chunk: string): Promise<void> {
  return out.write(chunk) ? Promise.resolve() : new Promise((resolve) => out.once('drain', resolve))
}

/** "k=v" pairs from --header flags. */
export function parseHeaders(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined
  const headers: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--header "${pair}" must look like key=value`)
    headers[pair.slice(0, eq).trim()] = pair.slice(eq + 1)
  }
  return headers
}

/**
 * Refuses a payload that looks like JSON (starts with { or [) but does not parse, unless a
 * non-JSON --content-type says it is text: a typo would otherwise be sent as text, exit 0.
 */
export function checkJsonLooking(text: string, where: string, contentType: string | undefined): void {
  if (contentType !== undefined && !/json/i.test(contentType)) return
  if (!/^\s*[[{]/.test(text)) return
  try {
    JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${where} looks like JSON but is not (${(error as Error).message}) — nothing was sent; fix it, or send it as text with --content-type text/plain`)
  }
}

export function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
