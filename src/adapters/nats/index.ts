// nats:// — NATS JetStream (nats-server ≥ 2.9). A queue is a stream and its durable pull consumer:
// STREAM (its one durable pull consumer, or ?consumer=) or STREAM/CONSUMER. URL forms in
// config.ts; message mapping in codec.ts; the dead-letter stream STREAM_DLQ in deadletter.ts.
import {AckPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'
import type {
  AdapterBroker,
  BrokerFactory,
  Capabilities,
  ConsumeOptions,
  EnqueueOptions,
  LeaseHandler,
  Message,
  MessageState,
  OutgoingMessage,
  PeekOptions,
  QueueOptions,
  QueueRef,
  QueueStats,
  RetryOptions,
  Subscription,
  WorkerReport,
  WorkersOptions,
} from '../../broker/contract.js'
import {closeGraceMs, closeWithin, within} from '../../broker/kit/deadline.js'
import {ConnectionError, NotSupportedError, UsageError} from '../../kernel/errors.js'
import {NATS_DEFAULT_MAX_PAYLOAD, deadLetterStreamOf, natsCapabilities} from './capabilities.js'
import {parseNatsUrl, type NatsSettings} from './config.js'
import {openConnection} from './connection.js'
import {startConsumer} from './consume.js'
import {publishDead, purgeDead, retryDead, type DeadLetterContext} from './deadletter.js'
import {Directory, type Target} from './directory.js'
import {publishAll} from './enqueue.js'
import {connectError, isNotFound, requestError} from './errors.js'
import {DEFAULT_CONSUMER, deadLetterRoute, parseQueue} from './names.js'
import {peekTarget, statsOf} from './read.js'
import {ConnectionWatch} from './watch.js'
import {natsWorkers} from './workers.js'

export {natsCapabilities} from './capabilities.js'

interface Live {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  dir: Directory
  watch: ConnectionWatch
}

class NatsBroker implements AdapterBroker {
  readonly transport = 'nats'
  readonly displayUrl: string
  private live?: Promise<Live>
  private readonly subscriptions = new Set<Subscription>()
  private closed = false

  constructor(private readonly settings: NatsSettings) {
    this.displayUrl = settings.displayUrl
  }

  private conn(): Promise<Live> {
    if (this.closed) return Promise.reject(new ConnectionError(`the connection to ${this.displayUrl} is closed`))
    this.live ??= (async () => {
      const nc = await openConnection(this.settings)
      try {
        const jsm = await jetstreamManager(nc, {timeout: this.settings.timeoutMs})
        const js = jetstream(nc, {timeout: this.settings.timeoutMs})
        return {nc, js, jsm, dir: new Directory(jsm, this.displayUrl, this.settings.consumer), watch: new ConnectionWatch(nc)}
      } catch (error) {
        await nc.close().catch(() => {})
        throw /jetstream (is )?not enabled|no responders/i.test(String((error as Error)?.message ?? error))
          ? new ConnectionError(`${this.displayUrl} answers but has no JetStream — start nats-server with -js`)
          : connectError(error, this.displayUrl)
      }
    })()
    void this.live.catch(() => (this.live = undefined))
    return this.live
  }

  private async dl(): Promise<DeadLetterContext> {
    const {js, jsm} = await this.conn()
    return {js, jsm, where: this.displayUrl}
  }

  async connect(): Promise<void> {
    await this.conn()
  }

  /** The broker's capabilities with this server's max_payload; one queue's add its stream's dead-letter stream. */
  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    const {nc} = await this.conn()
    const caps = {...natsCapabilities, maxPayloadBytes: nc.info?.max_payload ?? NATS_DEFAULT_MAX_PAYLOAD}
    // a queue is STREAM or STREAM/CONSUMER; its dead letters go to the stream's own DLQ stream
    return queue === undefined ? caps : {...caps, deadLetterQueue: deadLetterStreamOf(queue.split('/')[0]!)}
  }

  async workers(options: WorkersOptions): Promise<WorkerReport> {
    const {jsm} = await this.conn()
    try {
      return await natsWorkers(jsm, options)
    } catch (error) {
      throw requestError(error, this.displayUrl)
    }
  }

  async listQueues(): Promise<QueueRef[]> {
    return (await this.conn()).dir.list()
  }

  async stats(queue: string): Promise<QueueStats> {
    const {dir} = await this.conn()
    return statsOf(await this.dl(), await dir.resolve(queue))
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    const {dir} = await this.conn()
    return peekTarget(await this.dl(), await dir.resolve(queue), options)
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
    if (messages.length === 0) return []
    const {nc, js, dir} = await this.conn()
    const stream = await dir.stream(parseQueue(queue).stream, false)
    const ctx = {js, where: this.displayUrl, maxPayload: nc.info?.max_payload ?? NATS_DEFAULT_MAX_PAYLOAD, subject: this.settings.subject}
    try {
      return await publishAll(ctx, stream, messages, options)
    } catch (error) {
      dir.forget(stream.config.name)
      throw error
    }
  }

  /** The queue's consumer; a stream with none gets the durable pull consumer "queuectl". */
  private async consumerOf(queue: string): Promise<Target & {consumer: NonNullable<Target['consumer']>}> {
    const {dir, jsm} = await this.conn()
    const t = await dir.resolve(queue)
    if (t.consumer) return {...t, consumer: t.consumer}
    const consumer = await jsm.consumers.add(t.stream.config.name, {durable_name: DEFAULT_CONSUMER, ack_policy: AckPolicy.Explicit}).catch((e) => {
      throw requestError(e, this.displayUrl)
    })
    return {...t, consumer}
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    const {nc, watch} = await this.conn()
    const t = await this.consumerOf(queue)
    const stream = t.stream.config.name
    if (t.consumer.config.deliver_subject) throw new NotSupportedError(`${t.label} is a push consumer: nats:// consumes through durable pull consumers — make one for this queue`)
    const dl = await this.dl()
    const sub = startConsumer(
      {nc, info: t.consumer, label: t.label, where: this.displayUrl, watch, deadLetter: (msg, reason) => publishDead(dl, stream, t.consumer.name, msg, reason)},
      handler,
      options,
    )
    this.subscriptions.add(sub)
    void sub.closed.then(() => this.subscriptions.delete(sub))
    return sub
  }

  /** waiting: the whole stream (or the consumer's filter subject) — in-flight messages go too; dead: the dead-letter subject. */
  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    const {dir, jsm} = await this.conn()
    const t = await dir.resolve(queue)
    if (state === 'dead') return t.consumer ? purgeDead(await this.dl(), t.stream.config.name, t.consumer.name) : 0
    if (state !== 'waiting') throw new NotSupportedError(`nats:// can purge waiting or dead messages, not "${state}"`)
    const filter = this.settings.subject || t.consumer?.config.filter_subject || undefined
    try {
      return (await jsm.streams.purge(t.stream.config.name, filter ? {filter} : undefined)).purged
    } catch (error) {
      throw requestError(error, this.displayUrl)
    }
  }

  /** A work-queue stream capturing the subject of its name (or ?subject=) and its durable pull consumer. */
  async createQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    const {jsm, dir} = await this.conn()
    const {stream, consumer} = parseQueue(queue, this.settings.consumer)
    const subjectList = typeof options['subjects'] === 'string' ? options['subjects'].split(',').map((s) => s.trim()).filter(Boolean) : undefined
    try {
      const exists = await jsm.streams.info(stream).then(() => true, (e) => (isNotFound(e, 'stream') ? false : Promise.reject(e)))
      if (exists && (options['retention'] !== undefined || subjectList)) {
        throw new UsageError(`stream "${stream}" exists already: --retention and --subjects set a new stream — drop them (the consumer is still made), or delete the stream first`)
      }
      if (!exists) {
        const subjects = subjectList?.length ? subjectList : [this.settings.subject ?? stream]
        const retention = {limits: RetentionPolicy.Limits, interest: RetentionPolicy.Interest, workqueue: RetentionPolicy.Workqueue}[String(options['retention'] ?? 'workqueue')]
        await jsm.streams.add({name: stream, subjects, retention, storage: StorageType.File})
      }
      await jsm.consumers.add(stream, {
        durable_name: consumer ?? DEFAULT_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        ...(options['max-deliver'] === undefined ? {} : {max_deliver: Number(options['max-deliver'])}),
        ...(options['ack-wait'] === undefined ? {} : {ack_wait: Number(options['ack-wait']) * 1_000_000}),
      })
    } catch (error) {
      if (error instanceof UsageError) throw error
      throw requestError(error, this.displayUrl)
    } finally {
      dir.forget(stream)
    }
  }

  /** STREAM/CONSUMER: the consumer; STREAM: the stream and its dead-letter stream. */
  async deleteQueue(queue: string): Promise<void> {
    const {jsm, dir} = await this.conn()
    const {stream, consumer} = parseQueue(queue)
    await dir.stream(stream)
    try {
      if (consumer) {
        await dir.consumer(stream, consumer)
        await jsm.consumers.delete(stream, consumer)
        return
      }
      await jsm.streams.delete(stream)
      await jsm.streams.delete(deadLetterRoute(stream, DEFAULT_CONSUMER).stream).catch(() => false)
    } catch (error) {
      throw requestError(error, this.displayUrl)
    } finally {
      dir.forget(stream)
    }
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    // no consumer made here: dead letters of a stream without one can only be the default's
    const t = await (await this.conn()).dir.resolve(queue)
    return retryDead(await this.dl(), t.stream.config.name, t.consumer?.name ?? DEFAULT_CONSUMER, options)
  }


  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // each step a short while at most: on a stalled network a drain never gets its flush answered
    const grace = closeGraceMs(this.settings.timeoutMs)
    await closeWithin(() => Promise.allSettled([...this.subscriptions].map((s) => s.close())), grace, () => {})
    const live = await within(this.live ?? Promise.resolve(undefined), grace, () => new Error('connect pending')).catch(() => undefined)
    // close() destroys the socket without a goodbye
    if (live) await closeWithin(() => live.nc.drain(), grace, () => void live.nc.close().catch(() => {}))
  }
}


export const createNatsBroker: BrokerFactory = async (url, options) => new NatsBroker(parseNatsUrl(url, options))
