// kafka:// — Apache Kafka (3.7+, 4.x; tested on 4.4). A queue is a topic read by a consumer group
// (group.ts) or, as other flavors are added to flavors.ts, e.g. share groups, `KIND:TOPIC/GROUP`.
//
// Client: @platformatic/kafka 1.x (pure JavaScript, maintained, TypeScript; 2.x needs Node 22, and
// queuectl ran on Node 20 when it was chosen; the floor is 22.19 now, so 2.x is the next step). Compared with kafkajs 2.2.4 on the Kafka 4.4 broker of
// scripts/kafka.sh: both produce and consume there, and kafkajs was faster in a naive awaited
// loop (≈28k vs ≈12k msg/s, 100-byte records, batches of 500, one partition; the yardstick in
// bench/wire/kafka.mjs, with @platformatic/kafka's stream flowing, reaches 11–25k), but kafkajs
// has had no release since 2023, speaks no KIP-848 consumer protocol, has no
// ConsumerGroupDescribe, and its protocol layer is not meant to be extended. @platformatic/kafka
// covers every admin call this adapter needs (ListOffsets, OffsetFetch, DescribeGroups,
// DeleteRecords, DescribeConfigs, a plain Fetch without a group) and exposes its protocol layer
// (Reader/Writer, one module per API), on which the share-group protocol (ShareFetch,
// ShareAcknowledge) can be written. Throughput against it: BENCHMARKS.md.
// first: the client's validators compile on first use, not while it loads (lazy-validators.ts)
import './lazy-validators.js'
import type {AdapterBroker, BrokerFactory, Capabilities, ConsumeOptions, EnqueueOptions, LeaseHandler, Message, MessageState, OutgoingMessage, PeekOptions, QueueOptions, QueueRef, QueueStats, Subscription, WorkerReport, WorkersOptions} from '../../broker/contract.js'
import {closeGraceMs, closeWithin} from '../../broker/kit/deadline.js'
import {KAFKA_DEFAULT_MAX_MESSAGE_BYTES, RECORD_OVERHEAD, groupCapabilities} from './capabilities.js'
import {ClientSet} from './client.js'
import type {OutRecord} from './codec.js'
import {parseKafkaUrl, type KafkaSettings} from './config.js'
import {createTopic} from './create.js'
import {produceAll, sendBatch} from './enqueue.js'
import {connectError, requestError} from './errors.js'
import type {KafkaContext, KafkaFlavor} from './flavor.js'
import {FLAVORS} from './flavors.js'
import {DEFAULT_GROUP, DLT_GROUP, DLT_SUFFIX, parseQueue, deadLetterTopicOf, type QueueName} from './names.js'
import {partitionsOf} from './offsets.js'
import {kafkaWorkers} from './workers.js'

class KafkaBroker implements AdapterBroker {
  readonly transport = 'kafka'
  readonly displayUrl: string
  private readonly clients: ClientSet
  private readonly subscriptions = new Set<Subscription>()
  /** Closed subscriptions whose consumer may still be in its group (GroupSubscription.finished). */
  private readonly leaving = new Set<Subscription>()
  private readonly maxBytesCache = new Map<string, number>()
  private readonly knownTopics = new Set<string>()
  private readonly ctx: KafkaContext
  private connected?: Promise<void>

  constructor(settings: KafkaSettings) {
    this.displayUrl = settings.displayUrl
    this.clients = new ClientSet(settings)
    this.ctx = {
      settings,
      clients: this.clients,
      where: this.displayUrl,
      publish: async (records: OutRecord[]) => {
        try {
          for (const topic of new Set(records.map((r) => r.topic))) await this.ensureTopic(topic)
          await sendBatch(this.clients.producer, records)
        } catch (error) {
          throw requestError(error, this.displayUrl)
        }
      },
      maxBytes: (topic) => this.maxBytes(topic),
    }
  }

  private resolve(queue: string): {flavor: KafkaFlavor; q: QueueName} {
    const q = parseQueue(queue, FLAVORS.slice(1).map((f) => f.kind))
    return {flavor: FLAVORS.find((f) => f.kind === q.kind) ?? FLAVORS[0]!, q}
  }

  /** Metadata once: a refused or wrong login fails here, with the hint. */
  async connect(): Promise<void> {
    this.connected ??= this.clients.admin.metadata({topics: [], autocreateTopics: false}).then(
      () => undefined,
      (error) => {
        this.connected = undefined
        throw connectError(error, this.displayUrl)
      },
    )
    return this.connected
  }

  private async maxBytes(topic: string): Promise<number> {
    const known = this.maxBytesCache.get(topic)
    if (known !== undefined) return known
    let value = KAFKA_DEFAULT_MAX_MESSAGE_BYTES
    try {
      const [d] = await this.clients.admin.describeConfigs({resources: [{resourceType: 2, resourceName: topic, configurationKeys: ['max.message.bytes']}]})
      const v = Number(d?.configs.find((c) => c.name === 'max.message.bytes')?.value)
      if (Number.isFinite(v) && v > 0) value = v
    } catch {
      // a missing topic is reported by the call that needs it
    }
    const usable = value - RECORD_OVERHEAD
    this.maxBytesCache.set(topic, usable)
    return usable
  }

  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    await this.connect()
    if (queue === undefined) return groupCapabilities
    const {flavor, q} = this.resolve(queue)
    return flavor.capabilities(this.ctx, q)
  }

  async listQueues(): Promise<QueueRef[]> {
    await this.connect()
    return (await Promise.all(FLAVORS.map((f) => f.list(this.ctx)))).flat()
  }

  async stats(queue: string): Promise<QueueStats> {
    await this.connect()
    const {flavor, q} = this.resolve(queue)
    await this.closedCommitted()
    return flavor.stats(this.ctx, q)
  }

  /**
   * A count right after a consumer of this process closed (the end of `move`, `work`) waits for
   * its last offsets to be committed (GroupSubscription.finished, a short while at most): counted
   * before, what it had handled in its last 100 ms still showed as waiting ("2100 left").
   */
  private async closedCommitted(): Promise<void> {
    const finishing = [...this.subscriptions, ...this.leaving].map((s) => (s as {finished?: Promise<void>}).finished).filter((f) => f !== undefined)
    if (finishing.length === 0) return
    await closeWithin(() => Promise.allSettled(finishing), closeGraceMs(this.ctx.settings.timeoutMs), () => {})
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    await this.connect()
    const {flavor, q} = this.resolve(queue)
    return flavor.peek(this.ctx, q, options)
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
    await this.connect()
    const {q} = this.resolve(queue)
    // checked once per topic: a batch after that costs one produce, not a metadata round trip too
    if (!this.knownTopics.has(q.topic)) {
      await partitionsOf(this.clients.admin, q.topic, this.displayUrl)
      this.knownTopics.add(q.topic)
    }
    if (messages.length === 0) return []
    const target = {topic: q.topic, partition: q.partition, maxBytes: await this.maxBytes(q.topic), where: this.displayUrl}
    return produceAll(this.clients.producer, target, messages, options)
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    await this.connect()
    const {flavor, q} = this.resolve(queue)
    await partitionsOf(this.clients.admin, q.topic, this.displayUrl)
    const sub = await flavor.consume(this.ctx, q, handler, options)
    this.subscriptions.add(sub)
    void sub.closed.then(() => {
      this.subscriptions.delete(sub)
      this.leaving.add(sub)
    })
    return sub
  }

  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    await this.connect()
    const {flavor, q} = this.resolve(queue)
    return flavor.purge(this.ctx, q, state)
  }

  /** Consumer-group and share-group members (workers.ts). */
  async workers(options: WorkersOptions): Promise<WorkerReport> {
    await this.connect()
    const asked = options.queues.map((text) => {
      const {q} = this.resolve(text)
      if (q.kind !== 'group') return {topic: q.topic, group: q.group ?? '', share: true}
      return {topic: q.topic, group: q.group ?? this.ctx.settings.group ?? (q.topic.endsWith(DLT_SUFFIX) ? DLT_GROUP : DEFAULT_GROUP)}
    })
    return kafkaWorkers(this.clients.admin, asked, this.displayUrl)
  }

  private readonly madeTopics = new Set<string>()

  /** Makes a dead-letter topic on its first dead letter (the broker does not auto-create here). */
  private async ensureTopic(topic: string): Promise<void> {
    if (this.madeTopics.has(topic)) return
    await this.createQueue(topic)
    this.madeTopics.add(topic)
  }

  /** The topic, with the settings `queue create` was given (create.ts); an existing topic is kept as it is. */
  async createQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    await this.connect()
    const {q} = this.resolve(queue)
    await createTopic(this.clients.admin, q.topic, options, this.displayUrl)
  }

  /** TOPIC/GROUP: the group; TOPIC: the topic and its dead-letter topic. */
  async deleteQueue(queue: string): Promise<void> {
    await this.connect()
    const {q} = this.resolve(queue)
    await partitionsOf(this.clients.admin, q.topic, this.displayUrl)
    try {
      if (q.group) {
        await this.clients.admin.deleteGroups({groups: [q.group]})
        return
      }
      const topics = await this.clients.admin.listTopics({includeInternals: false})
      await this.clients.admin.deleteTopics({topics: [q.topic, deadLetterTopicOf(q.topic)].filter((t) => topics.includes(t))})
    } catch (error) {
      throw requestError(error, this.displayUrl)
    }
  }

  private closing?: Promise<void>

  close(): Promise<void> {
    this.closing ??= (async () => {
      const subs = [...this.subscriptions, ...this.leaving]
      await Promise.allSettled(subs.map((s) => s.close()))
      // a closed group consumer lingers until its leases are settled: wait a short while at most
      const grace = closeGraceMs(this.ctx.settings.timeoutMs)
      await closeWithin(() => Promise.allSettled(subs.map((s) => (s as {finished?: Promise<void>}).finished)), grace, () => {})
      await this.clients.close()
    })()
    return this.closing
  }
}

export const createKafkaBroker: BrokerFactory = async (url, options) => new KafkaBroker(parseKafkaUrl(url, options))
