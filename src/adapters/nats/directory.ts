// Finds the stream and consumer behind a queue name, with "did you mean" on a miss, and caches
// what enqueue needs (subjects, size limit) for a few seconds so a batch loop pays no lookups.
import type {ConsumerInfo, JetStreamManager, StreamInfo} from '@nats-io/jetstream'
import {NotFoundError, UsageError} from '../../kernel/errors.js'
import {nearNames} from '../../kernel/suggest.js'
import {isNotFound, requestError} from './errors.js'
import {isDeadLetterStream, parseQueue, queueLabel} from './names.js'

export interface Target {
  label: string
  stream: StreamInfo
  /** The durable pull consumer; absent when the stream has none. */
  consumer?: ConsumerInfo
}

const CACHE_MS = 5000

const isPullConsumer = (c: ConsumerInfo): boolean => !c.config.deliver_subject

export class Directory {
  private readonly cache = new Map<string, {at: number; info: StreamInfo}>()

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly where: string,
    private readonly defaultConsumer?: string,
  ) {}

  /** Stream info; cached (for enqueue) when `fresh` is false. */
  async stream(name: string, fresh = true): Promise<StreamInfo> {
    const hit = this.cache.get(name)
    if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.info
    try {
      const info = await this.jsm.streams.info(name)
      this.cache.set(name, {at: Date.now(), info})
      return info
    } catch (error) {
      this.cache.delete(name)
      if (isNotFound(error, 'stream')) throw await this.streamMissing(name)
      throw requestError(error, this.where)
    }
  }

  forget(name: string): void {
    this.cache.delete(name)
  }

  private async streamMissing(name: string): Promise<NotFoundError> {
    const names = await this.streamNames().catch(() => [] as string[])
    const near = nearNames(name, names)
    const hint = near.length > 0 ? `did you mean: ${near.join(', ')}?` : 'run `queue inspect` to list the streams'
    return new NotFoundError(`stream "${name}" not found on ${this.where} — ${hint}`, near)
  }

  async streamNames(): Promise<string[]> {
    const names: string[] = []
    for await (const name of this.jsm.streams.names()) names.push(name)
    return names
  }

  async consumers(stream: string): Promise<ConsumerInfo[]> {
    const out: ConsumerInfo[] = []
    try {
      for await (const c of this.jsm.consumers.list(stream)) out.push(c)
    } catch (error) {
      if (isNotFound(error, 'stream')) throw await this.streamMissing(stream)
      throw requestError(error, this.where)
    }
    return out
  }

  /** The stream and its consumer: the one named, else the stream's only durable pull consumer. */
  async resolve(queue: string, fresh = true): Promise<Target> {
    const {stream, consumer} = parseQueue(queue, this.defaultConsumer)
    const info = await this.stream(stream, fresh)
    if (consumer) return {label: queueLabel(stream, consumer), stream: info, consumer: await this.consumer(stream, consumer)}
    const pulls = (await this.consumers(stream)).filter((c) => isPullConsumer(c) && c.config.durable_name)
    if (pulls.length > 1) {
      const names = pulls.map((c) => queueLabel(stream, c.name))
      throw new UsageError(`stream "${stream}" has ${pulls.length} durable pull consumers — name one: ${names.join(', ')}`, names)
    }
    return {label: stream, stream: info, consumer: pulls[0]}
  }

  async consumer(stream: string, name: string): Promise<ConsumerInfo> {
    try {
      return await this.jsm.consumers.info(stream, name)
    } catch (error) {
      if (!isNotFound(error, 'consumer')) throw requestError(error, this.where)
      const names = (await this.consumers(stream).catch(() => [])).map((c) => c.name)
      const near = nearNames(name, names).map((c) => queueLabel(stream, c))
      const hint = near.length > 0 ? `did you mean: ${near.join(', ')}?` : names.length > 0 ? `it has: ${names.join(', ')}` : 'it has no consumers'
      throw new NotFoundError(`consumer "${name}" not found on stream "${stream}" (${this.where}) — ${hint}`, near)
    }
  }

  /** Every stream as a queue (or one queue per consumer where it has several); dead-letter streams left out. */
  async list(): Promise<{name: string; kind: string}[]> {
    const out: {name: string; kind: string}[] = []
    try {
      for await (const s of this.jsm.streams.list()) {
        if (isDeadLetterStream(s.config.subjects)) continue
        const pulls = s.state.consumer_count > 1 ? (await this.consumers(s.config.name)).filter(isPullConsumer) : []
        if (pulls.length > 1) out.push(...pulls.map((c) => ({name: queueLabel(s.config.name, c.name), kind: 'nats'})))
        else out.push({name: s.config.name, kind: 'nats'})
      }
    } catch (error) {
      throw requestError(error, this.where)
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }
}
