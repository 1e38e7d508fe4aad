// The share-group flavor of the kafka transport: a queue `share:TOPIC/GROUP` is a KIP-932 share group
// reading a topic. Counts are Kafka's own (kafka-share-groups --describe: the share-partition lag), the
// dead are the records in the group's dead-letter topic (KIP-1191, share.version 2), and consuming
// acquires records with ShareFetch and settles each with ShareAcknowledge: ack = accept, nack =
// release (redelivered, delivery count + 1), deadLetter = reject (archived, or to the dead-letter topic).
import {Admin, type ConnectionOptions} from '@platformatic/kafka'
import type {Capabilities, ConsumeOptions, Lease, LeaseHandler, Message, QueueStats, Subscription} from '../../broker/contract.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {KAFKA_DEFAULT_MAX_MESSAGE_BYTES, RECORD_OVERHEAD} from './capabilities.js'
import {toMessage} from './codec.js'
import {ShareConsumer, ShareGroupClient, type ShareRecord} from './share-group.js'

export const SHARE_PREFIX = 'share:'
const DLQ_CONFIG = 'errors.deadletterqueue.topic.name'
const GROUP_RESOURCE = 32

/** `share:TOPIC/GROUP` → its topic and group; undefined when the name is not a share queue. */
export function parseShareQueue(queue: string): {topic: string; group: string} | undefined {
  if (!queue.startsWith(SHARE_PREFIX)) return undefined
  const rest = queue.slice(SHARE_PREFIX.length)
  const slash = rest.lastIndexOf('/')
  if (slash <= 0 || slash === rest.length - 1) {
    throw new UsageError(`share queue '${queue}' names no group: write share:TOPIC/GROUP (e.g. share:orders/billing)`)
  }
  return {topic: rest.slice(0, slash), group: rest.slice(slash + 1)}
}

export const shareCapabilities: Capabilities = {
  listQueues: true,
  peek: 'none',
  delay: false,
  priority: false,
  deadLetter: 'state',
  leaseExpiry: true,
  rates: false,
  states: ['waiting', 'dead'],
  purgeStates: [],
  dedup: false,
  groups: false,
  inProcess: false,
  retry: false,
  pause: false,
  create: true,
  delete: true,
  extend: false,
  consume: true,
  // enqueue produces to the topic the group reads (the transport's idempotent producer)
  enqueue: true,
  publish: {persistent: 'server', confirms: 'always'},
  maxPayloadBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES - RECORD_OVERHEAD,
  advice: {
    delay: 'Kafka share groups cannot delay a record: produce it later, or nack (release) it to be redelivered',
    priority: 'Kafka has no record priority: use one topic per priority',
    retry: 'a rejected record is archived by Kafka; with a dead-letter topic (errors.deadletterqueue.topic.name) move it back from that topic',
    pause: 'a share group cannot be paused: stop its consumers',
    extend: "the acquisition lock is the group's share.record.lock.duration.ms (kafka-configs --entity-type groups)",
  },
}

/** The dead-letter topic a share group writes rejected records to (KIP-1191), and how many records it holds. */
async function deadLetters(client: ShareGroupClient, options: ConnectionOptions): Promise<{topic: string; records: number} | undefined> {
  const admin = new Admin({clientId: 'queuectl', bootstrapBrokers: [`${client.bootstrap.host}:${client.bootstrap.port}`], ...options})
  try {
    const [desc] = await admin.describeConfigs({resources: [{resourceType: GROUP_RESOURCE as never, resourceName: client.group, configurationKeys: [DLQ_CONFIG]}]})
    const topic = desc?.configs.find((c) => c.name === DLQ_CONFIG)?.value
    if (!topic) return undefined
    const partitions = [...(await client.topic(topic)).leaders.keys()]
    const total = async (timestamp: bigint): Promise<bigint> => {
      const listed = await admin.listOffsets({topics: [{name: topic, partitions: partitions.map((partitionIndex) => ({partitionIndex, timestamp}))}]})
      return listed.flatMap((t) => t.partitions).reduce((sum, p) => sum + p.offset, 0n)
    }
    return {topic, records: Number((await total(-1n)) - (await total(-2n)))}
  } finally {
    await admin.close()
  }
}

/** Stats of a share queue: waiting = Σ share-partition lag, as kafka-share-groups --describe prints it. */
export async function shareStats(client: ShareGroupClient, queue: string, options: ConnectionOptions = {}): Promise<QueueStats> {
  const {topic} = parseShareQueue(queue)!
  const counts = await client.counts(topic)
  const dlq = await deadLetters(client, options)
  return {
    name: queue,
    kind: 'kafka-share',
    counts: {...(counts.pending === undefined ? {} : {waiting: Number(counts.pending)}), ...(dlq ? {dead: dlq.records} : {})},
    consumers: counts.members,
    details: {
      group: client.group,
      groupState: counts.state,
      partitions: counts.partitions.map((p) => ({partition: p.partition, startOffset: String(p.startOffset), lag: p.lag === undefined ? 'unknown' : String(p.lag)})),
      waiting:
        counts.pending === undefined
          ? 'unknown: a share partition has no persisted state yet (until its first acknowledgement); kafka-share-groups prints - too'
          : 'the share-partition lag: records after the start offset not yet accepted or rejected, acquired ones included (Kafka reports no separate acquired or delivery counts)',
      deadLetterTopic: dlq?.topic ?? 'none (rejected records are archived in the share partition, and Kafka does not count them)',
    },
  }
}

/** The transport's record → message mapping (name and content type from headers); attempts add Kafka's delivery count. */
function shareMessage(queue: string, topic: string, r: ShareRecord): Message {
  const headers: Record<string, string> = {}
  for (const [k, v] of r.headers) if (k) headers[k.toString()] = v?.toString() ?? ''
  const m = toMessage(queue, {topic, partition: r.partition, offset: r.offset, timestamp: Number(r.timestamp), key: r.key, value: r.value, headers}, 'inflight', false)
  return {...m, attempts: m.attempts + r.deliveryCount}
}

/** One request at a time on a share session (its epochs are sequential): fetches and acknowledgements queue here. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve()
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn)
    this.tail = next.catch(() => {})
    return await next
  }
}

type Settle = 'accept' | 'release' | 'reject'

/** A lease on one acquired record: the first of ack (accept), nack (release) or deadLetter (reject) settles it. */
function shareLease(message: Message, settle: (how: Settle) => Promise<void>): Lease {
  let done = false
  const once = async (how: Settle): Promise<void> => {
    if (done) return
    done = true
    await settle(how)
  }
  return {
    message,
    ack: async () => {
      await once('accept')
    },
    nack: async (o) => {
      if (o?.delayMs) throw new NotSupportedError(shareCapabilities.advice!.delay!)
      await once('release')
    },
    deadLetter: async () => {
      await once('reject')
    },
    extend: async () => {
      throw new NotSupportedError(shareCapabilities.advice!.extend!)
    },
  }
}

/**
 * Consume a share queue: each lease is one acquired record; ack/nack/deadLetter resolve once Kafka has
 * the acknowledgement (ShareAcknowledge), so a settled lease survives a kill -9 and an unsettled one
 * is redelivered when its acquisition lock (share.record.lock.duration.ms) runs out. Closing stops fetching
 * only; ShareGroupClient.close() leaves the group, and Kafka releases what is still unsettled.
 */
export async function shareConsume(client: ShareGroupClient, queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
  const {topic} = parseShareQueue(queue)!
  const consumer = new ShareConsumer(client, topic)
  await consumer.join()
  const serial = new Serial()
  let held = 0
  let open = true
  let wake: (() => void) | undefined
  const settle = async (r: ShareRecord, how: Settle): Promise<void> => {
    await serial.run(async () => {
      consumer.settle(r, how)
      await consumer.flush()
    })
    held--
    wake?.()
  }
  const lease = (r: ShareRecord): Lease => shareLease(shareMessage(queue, topic, r), async (how) => await settle(r, how))
  const loop = async (): Promise<Error | undefined> => {
    try {
      while (open) {
        if (held >= options.prefetch) {
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, 500)
          })
          continue
        }
        const records = await serial.run(async () => await consumer.fetch(options.prefetch - held, Math.min(options.pollWaitMs ?? 500, 500)))
        for (const r of records) {
          held++
          handler(lease(r))
        }
      }
      return undefined
    } catch (e) {
      return e as Error
    }
  }
  const closed = loop()
  let finished: Promise<void> | undefined
  // after close(): the session stays open while leases are held (bounded by the acquisition lock,
  // after which Kafka releases them anyway), then the member leaves and the connections close
  const finish = async (): Promise<void> => {
    const until = Date.now() + (consumer.lockTimeoutMs || 30_000)
    while (held > 0 && Date.now() < until)
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 200)
      })
    await client.close()
  }
  return {
    closed,
    get finished() {
      return finished
    },
    close: async () => {
      if (!open) return
      open = false
      wake?.()
      await closed
      finished = finish()
    },
  } as Subscription & {finished?: Promise<void>}
}
