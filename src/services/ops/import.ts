// `queue import`: NDJSON export lines back onto a queue, in batches. Streaming by default: a bad
// line (a truncated file) stops the import after everything before it was sent, and the error
// names the line. With allOrNothing every line is checked first (stdin is spooled to a temp file
// so a huge input stays out of memory) and nothing is sent when one is bad.
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {finished} from 'node:stream/promises'
import type {Broker, OutgoingMessage} from '../../broker/contract.js'
import {sendInBatches} from '../enqueue.js'
import {lineChunks} from '../lines.js'
import {LineError, parseExportLine} from './message-format.js'

export interface ImportOptions {
  batchSize: number
  allOrNothing: boolean
  priority: boolean
  signal?: AbortSignal
  onBatch?: (sent: number) => void
}

export interface ImportReport {
  imported: number
  /** The first bad line, when the import stopped at one. */
  badLine?: LineError
  /** With allOrNothing: every line was checked before sending. */
  validated?: number
}

/** `open` is called once per pass: twice for a file with allOrNothing, once otherwise. */
export async function importMessages(broker: Broker, queue: string, open: () => Readable, reopenable: boolean, options: ImportOptions): Promise<ImportReport> {
  if (!options.allOrNothing) return send(broker, queue, open(), options)
  let spoolDir: string | undefined
  try {
    let source = open
    if (!reopenable) {
      spoolDir = await mkdtemp(join(tmpdir(), 'queuectl-import-'))
      const file = join(spoolDir, 'input.ndjson')
      const out = createWriteStream(file)
      const input = open()
      input.pipe(out)
      await finished(out)
      source = () => createReadStream(file)
    }
    let validated = 0
    for await (const chunk of lines(source(), options.priority)) {
      const last = chunk.at(-1)
      if (last instanceof LineError) return {imported: 0, badLine: last, validated: validated + chunk.length - 1}
      validated += chunk.length
    }
    const report = await send(broker, queue, source(), options)
    return {...report, validated}
  } finally {
    if (spoolDir) await rm(spoolDir, {recursive: true, force: true})
  }
}

async function send(broker: Broker, queue: string, input: Readable, options: ImportOptions): Promise<ImportReport> {
  let badLine: LineError | undefined
  const where = new LineNumbers()
  // the generator ends at a bad line, so the messages before it are still sent
  async function* messages(): AsyncIterable<OutgoingMessage[]> {
    for await (const chunk of lines(input, options.priority, where)) {
      const last = chunk.at(-1)
      if (last instanceof LineError) {
        badLine = last
        chunk.pop()
        if (chunk.length > 0) yield chunk as OutgoingMessage[]
        return
      }
      yield chunk as OutgoingMessage[]
    }
  }
  const {sent} = await sendInBatches(broker, queue, messages(), {
    batchSize: options.batchSize,
    signal: options.signal,
    // only counted: a Redis list then skips hashing every item for an id
    ids: false,
    onBatch: (_ids, total) => options.onBatch?.(total),
    lineOf: (ordinal) => where.lineOf(ordinal),
  })
  return {imported: sent, badLine}
}

/** Which input line each message came from (blank lines make them differ), kept as the points where they start to differ. */
class LineNumbers {
  private count = 0
  private readonly breaks: [ordinal: number, line: number][] = []

  add(line: number): void {
    const ordinal = ++this.count
    const last = this.breaks.at(-1)
    if (!last || last[1] - last[0] !== line - ordinal) this.breaks.push([ordinal, line])
  }

  lineOf(ordinal: number): number {
    let shift = 0
    for (const [o, l] of this.breaks) {
      if (o > ordinal) break
      shift = l - o
    }
    return ordinal + shift
  }
}

/** The messages of each chunk of lines read; a bad line ends its chunk (as its last item) and the whole. */
async function* lines(input: Readable, priority: boolean, where?: LineNumbers): AsyncIterable<(OutgoingMessage | LineError)[]> {
  let n = 0
  for await (const raws of lineChunks(input)) {
    const out: (OutgoingMessage | LineError)[] = []
    for (const raw of raws) {
      n++
      const text = raw.trim()
      if (text === '') continue
      try {
        out.push(parseExportLine(text, n, {priority}))
      } catch (error) {
        if (!(error instanceof LineError)) throw error
        out.push(error)
        yield out
        return
      }
      where?.add(n)
    }
    if (out.length > 0) yield out
  }
}
