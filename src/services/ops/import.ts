// `queue import`: NDJSON export lines back onto a queue, in batches. Streaming by default: a bad
// line (a truncated file) stops the import after everything before it was sent, and the error
// names the line. With allOrNothing every line is checked first (stdin is spooled to a temp file
// so a huge input stays out of memory) and nothing is sent when one is bad.
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'
import {finished} from 'node:stream/promises'
import type {Broker, OutgoingMessage} from '../../broker/contract.js'
import {sendInBatches} from '../enqueue.js'
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
    for await (const item of lines(source(), options.priority)) {
      if (item instanceof LineError) return {imported: 0, badLine: item, validated}
      validated++
    }
    const report = await send(broker, queue, source(), options)
    return {...report, validated}
  } finally {
    if (spoolDir) await rm(spoolDir, {recursive: true, force: true})
  }
}

async function send(broker: Broker, queue: string, input: Readable, options: ImportOptions): Promise<ImportReport> {
  let badLine: LineError | undefined
  // the generator ends at a bad line, so the batch before it is still sent
  async function* messages(): AsyncIterable<OutgoingMessage> {
    for await (const item of lines(input, options.priority)) {
      if (item instanceof LineError) {
        badLine = item
        return
      }
      yield item
    }
  }
  const {sent} = await sendInBatches(broker, queue, messages(), {
    batchSize: options.batchSize,
    signal: options.signal,
    onBatch: (_ids, total) => options.onBatch?.(total),
  })
  return {imported: sent, badLine}
}

async function* lines(input: Readable, priority: boolean): AsyncIterable<OutgoingMessage | LineError> {
  let n = 0
  for await (const raw of createInterface({input, crlfDelay: Infinity})) {
    n++
    const text = raw.trim()
    if (text === '') continue
    try {
      yield parseExportLine(text, n, {priority})
    } catch (error) {
      if (error instanceof LineError) {
        yield error
        return
      }
      throw error
    }
  }
}
