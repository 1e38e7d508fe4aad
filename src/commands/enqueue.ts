import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {offerCreate, withFlavor} from '../broker/capabilities.js'
import {requireCapability} from '../broker/kit/guard.js'
import type {Broker, Capabilities, OutgoingMessage} from '../broker/contract.js'
import {BaseCommand} from '../cli/base-command.js'
import {type MessageTemplate, checkOptions, sendInBatches} from '../services/enqueue.js'
import {checkDestination} from '../services/ops/destination.js'
import {NotFoundError, UsageError} from '../kernel/errors.js'
import {ndjsonLine, ProgressLine} from '../kernel/output.js'
import {checkJsonLooking, checkJsonPayload, loadSchemaValidator, looksLikeJson, parseHeaders, readNdjson, type PayloadValidator, type ValidatedLines} from '../services/payloads.js'
import {onInterrupt} from '../cli/signals.js'
import {parseDuration} from '../kernel/units.js'
import {safeLine} from '../kernel/terminal.js'
import {queueArgDescription} from '../adapters/registry.js'

export default class Enqueue extends BaseCommand<typeof Enqueue> {
  static override summary = 'Put messages on a queue.'
  static override description = `The payload comes from the argument, from --file (bytes sent exactly), or from NDJSON on standard input (one message a line). Stdin is validated in full before anything is sent: a bad line means nothing was sent, and the error names the line; empty stdin is exit 2. A payload that starts with { or [ but is not JSON is refused (exit 2, with the position) unless --content-type says it is not JSON.

Prints the ids of the messages, one a line (NDJSON objects with --json).`
  static override examples = [
    {description: 'One JSON message', command: `<%= config.bin %> <%= command.id %> emails '{"to":"ada@example.com"}'`},
    {description: 'A BullMQ job with a name, in 30 seconds', command: `<%= config.bin %> <%= command.id %> bullmq:emails '{"to":"ada@example.com"}' --name welcome --delay 30s`},
    {description: 'Many messages from NDJSON, each checked against a JSON Schema first', command: '<%= config.bin %> <%= command.id %> emails --schema email.schema.json < emails.ndjson'},
    {description: 'A file as one message, ten times', command: '<%= config.bin %> <%= command.id %> images --file photo.png --count 10'},
  ]

  static override args = {
    queue: Args.string({ignoreStdin: true, description: queueArgDescription('Queue to send to.'), required: true}),
    payload: Args.string({ignoreStdin: true, description: 'The payload. Omit it to read --file or NDJSON on stdin.'}),
  }

  static override flags = {
    file: Flags.string({char: 'f', summary: 'Send the bytes of this file as the payload.', exclusive: ['payload']}),
    name: Flags.string({char: 'n', summary: 'Message/job/task name.'}),
    delay: Flags.string({summary: 'Hold the messages back this long (e.g. 5s, 10m).'}),
    priority: Flags.integer({summary: 'Priority: higher is served first.'}),
    header: Flags.string({char: 'H', summary: 'A header as key=value (repeatable).', multiple: true}),
    count: Flags.integer({summary: 'Send the payload this many times.', min: 1, default: 1}),
    schema: Flags.string({summary: 'Validate every payload against this JSON Schema file before sending any.'}),
    'content-type': Flags.string({summary: 'Content type (default: application/json when the payload is JSON).'}),
    'dedup-id': Flags.string({summary: 'Deduplication id (SQS FIFO, BullMQ job id).'}),
    'group-id': Flags.string({summary: 'Message group id (SQS FIFO); the record key on Kafka (alias --key).', aliases: ['key']}),
    flavor: Flags.string({summary: "Encode for a job library on the broker: celery (name = task, payload = [args] or {args, kwargs})."}),
    'batch-size': Flags.integer({summary: 'Messages per call to the broker.', min: 1, default: 500}),
    create: Flags.boolean({summary: 'Create the queue when it does not exist (otherwise a missing queue is exit 4 and nothing is sent).'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = this
    if (args.queue.trim() === '') throw new UsageError('the queue name is empty — give the queue to send to')
    const template: MessageTemplate = {
      name: flags.name,
      headers: parseHeaders(flags.header),
      delayMs: flags.delay === undefined ? undefined : parseDuration(flags.delay, '--delay', {timer: false}),
      priority: flags.priority,
      dedupId: flags['dedup-id'],
      groupId: flags['group-id'],
    }
    const validator = flags.schema ? await loadSchemaValidator(flags.schema) : undefined
    const fromStdin = args.payload === undefined && flags.file === undefined
    if (fromStdin && this.io.in.isTTY) {
      throw new UsageError('no payload — pass it as an argument, use --file, or pipe NDJSON to stdin')
    }
    if (fromStdin && flags.count !== 1) throw new UsageError('--count repeats one payload; it cannot be used with NDJSON on stdin')

    // Connect first (to learn the broker's limits), then read and validate everything, then send.
    const broker = await this.openBroker()
    const caps = await this.destination(broker)
    checkOptions(broker, withFlavor(caps, flags.flavor), template)
    const progress = new ProgressLine(this.io.err)
    const {single, lines} = await this.payloads(validator, caps.maxPayloadBytes, progress)
    if (single && caps.maxPayloadBytes !== undefined && single.length > caps.maxPayloadBytes) {
      throw new UsageError(`the payload is ${single.length} bytes, over ${broker.transport}'s limit of ${caps.maxPayloadBytes} — nothing was sent`)
    }
    const messages = lines
      ? mapLines(lines, template, flags['content-type'] ?? 'application/json')
      : repeat({...template, payload: single!, contentType: flags['content-type'] ?? guessContentType(single!)}, flags.count)
    try {
      await this.send(broker, caps, messages, lines ? lines.count : flags.count, progress)
    } finally {
      progress.done()
      await lines?.dispose()
    }
    return undefined
  }

  /** The queue's capabilities, refused before any payload is read; made first with --create. */
  private async destination(broker: Broker): Promise<Capabilities> {
    const {flags, args} = this
    // a broker that learns a queue's capabilities from the queue itself (SQS) finds no queue yet: --create makes it first
    const caps = await broker.capabilitiesOf(args.queue).catch(async (error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error
      const brokerCaps = await broker.capabilitiesOf()
      if (flags.create) return brokerCaps
      throw offerCreate(error, brokerCaps)
    })
    // before reading stdin or the file: RQ's pickled jobs are refused whatever the payload
    requireCapability(caps, 'enqueue', args.queue, broker)
    if (!flags.create) return caps
    await checkDestination(broker, args.queue, true)
    return broker.capabilitiesOf(args.queue)
  }

  /** One payload (the argument or --file), or the NDJSON lines of stdin, validated in full. */
  private async payloads(validator: PayloadValidator | undefined, maxBytes: number | undefined, progress: ProgressLine): Promise<{single?: Buffer; lines?: ValidatedLines}> {
    const {flags, args} = this
    if (flags.file !== undefined) {
      const single = await readFile(flags.file).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read --file ${flags.file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`)
      })
      if (validator) checkJsonPayload(single.toString('utf8'), `--file ${flags.file}`, validator)
      else checkJsonLooking(single.toString('utf8'), `--file ${flags.file}`, flags['content-type'])
      return {single}
    }
    if (args.payload !== undefined) {
      if (validator) checkJsonPayload(args.payload, 'the payload', validator)
      else checkJsonLooking(args.payload, 'the payload', flags['content-type'])
      return {single: Buffer.from(args.payload)}
    }
    const lines = await readNdjson(this.io.in, {
      validator,
      maxBytes,
      onLine: (n) => n % 1000 === 0 && progress.update(`validated ${n} lines`),
    })
    progress.done()
    if (lines.count === 0) throw new UsageError('stdin was empty: no message to send — pipe NDJSON (one JSON value per line), or pass the payload as an argument')
    return {lines}
  }

  private async send(broker: Broker, caps: Capabilities, messages: Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage[]>, total: number, progress: ProgressLine): Promise<void> {
    const {flags, args} = this
    const interrupt = onInterrupt({err: this.io.err})
    const json = this.jsonEnabled()
    // memory:// and the like: the id printed names a message that dies with this process
    const extra = caps.inProcess ? {inProcess: true} : {}
    try {
      const report = await sendInBatches(broker, args.queue, messages, {
        batchSize: flags['batch-size'],
        total,
        flavor: flags.flavor,
        signal: interrupt.signal,
        onBatch: (ids, sent) => {
          // NDJSON is a stream: written as it goes, not as oclif's one JSON document at the end
          this.io.out.write(ids.map((id) => (json ? ndjsonLine({id, queue: args.queue, ...extra}) : safeLine(id))).join('\n') + '\n')
          if (total > 1000) progress.update(`sent ${sent}/${total}`)
        },
      })
      if (caps.inProcess && report.sent > 0) {
        const n = report.sent === 1 ? 'the message lives' : `the ${report.sent} messages live`
        this.io.err.write(`warning: ${broker.displayUrl} is in-process: ${n} only in this process and ${report.sent === 1 ? 'is' : 'are'} gone now that it exits — enqueue to a broker URL (redis://, amqp://…) to keep messages\n`)
      }
    } catch (error) {
      throw offerCreate(error, caps)
    } finally {
      interrupt.dispose()
    }
  }
}

function* repeat(message: OutgoingMessage, count: number): Iterable<OutgoingMessage> {
  for (let i = 0; i < count; i++) yield message
}

function mapLines(lines: ValidatedLines, template: MessageTemplate, contentType: string): Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage[]> {
  const all = lines.chunks()
  // the same keys as {...template, payload, contentType}; spreading a template of undefineds measured 5× slower
  const message = (l: {text: string}): OutgoingMessage => {
    const m = Object.assign({}, template) as OutgoingMessage
    m.payload = l.text
    m.contentType = contentType
    return m
  }
  // lines kept in memory stay a sync iterable; spooled ones come a chunk (not a promise) at a time
  return Symbol.iterator in all ? mapSync(all, message) : mapChunks(all, message)
}

function* mapSync<T, U>(chunks: Iterable<T[]>, f: (item: T) => U): Iterable<U> {
  for (const chunk of chunks) for (const item of chunk) yield f(item)
}

async function* mapChunks<T, U>(chunks: AsyncIterable<T[]>, f: (item: T) => U): AsyncIterable<U[]> {
  for await (const chunk of chunks) yield chunk.map(f)
}

function guessContentType(payload: Buffer): string {
  return looksLikeJson(payload.toString('utf8')) ? 'application/json' : 'application/octet-stream'
}
