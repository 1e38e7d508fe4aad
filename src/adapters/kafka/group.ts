// The consumer-group flavor: a queue is TOPIC/GROUP. waiting = the group's lag summed over the
// partitions (what `kafka-consumer-groups --describe` shows); in flight is unknown (a group keeps
// no per-record lease: fetched-but-uncommitted records still count as waiting); oldest age = the
// timestamp of the first uncommitted record; consumers = the group's members. A bare TOPIC is
// TOPIC/queuectl; a group that committed nothing shows the retained records as waiting, and says so.
import type {Message, MessageState, PeekOptions, QueueRef, QueueStats} from '../../broker/contract.js'
import {peekWith} from '../../broker/kit/peek.js'
import {NotSupportedError} from '../../kernel/errors.js'
import {groupCapabilities} from './capabilities.js'
import {toMessage} from './codec.js'
import {consumeGroup} from './consume.js'
import {requestError} from './errors.js'
import type {KafkaContext, KafkaFlavor} from './flavor.js'
import {CONSUMER_GROUP_TYPES, membersOf} from './members.js'
import {meterOf} from './rates.js'
import {DEFAULT_GROUP, DLT_GROUP, DLT_SUFFIX, deadLetterTopicOf, type QueueName} from './names.js'
import {committedOf, groupExists, offsetsOf, partitionsOf, readAt, readFrom, resumeAt, topicExists, type PartitionOffsets} from './offsets.js'

interface Position {
  topic: string
  group?: string
  /** The group exists and committed something on this topic. */
  tracked: boolean
  offsets: PartitionOffsets[]
  from: Map<number, bigint>
}

async function positionOf(ctx: KafkaContext, topic: string, group: string | undefined): Promise<Position> {
  const {admin} = ctx.clients
  const partitions = await partitionsOf(admin, topic, ctx.where)
  const offsets = await offsetsOf(admin, topic, partitions, ctx.where)
  const committed = group && (await groupExists(admin, group, ctx.where)) ? await committedOf(admin, group, topic, partitions, ctx.where) : new Map<number, bigint>()
  return {topic, group, tracked: committed.size > 0, offsets, from: new Map(offsets.map((p) => [p.partition, resumeAt(p, committed)]))}
}

/** In: the topic's end offsets advancing; out: where the group resumes advancing (rates.ts). */
function ratesOf(ctx: KafkaContext, p: Position): QueueStats['rates'] {
  const sum = (values: Iterable<bigint>) => [...values].reduce((a, b) => a + b, 0n)
  return meterOf(ctx).sample(`${p.topic}/${p.group ?? ''}`, sum(p.offsets.map((o) => o.high)), sum(p.from.values()))
}

const waitingOf = (p: Position): number => p.offsets.reduce((sum, o) => sum + Number(o.high - p.from.get(o.partition)!), 0)

async function oldestAge(ctx: KafkaContext, p: Position): Promise<number | undefined> {
  let oldest: number | undefined
  for (const o of p.offsets) {
    const at = p.from.get(o.partition)!
    if (at >= o.high) continue
    const [first] = await readAt(ctx.clients.reader, p.topic, o.partition, at, 1, ctx.where)
    if (first && (oldest === undefined || first.timestamp < oldest)) oldest = first.timestamp
  }
  return oldest === undefined ? undefined : Math.max(0, Date.now() - oldest)
}

/** The dead letters not yet retried: TOPIC-dlt's records past the DLT group; 0 when it has none. */
async function deadCount(ctx: KafkaContext, topic: string): Promise<number> {
  const dlt = deadLetterTopicOf(topic)
  if (!(await topicExists(ctx.clients.admin, dlt, ctx.where))) return 0
  try {
    return waitingOf(await positionOf(ctx, dlt, DLT_GROUP))
  } catch (error) {
    if ((error as {exitCode?: number}).exitCode === 4) return 0
    throw error
  }
}

/** The group a queue names, the URL's ?group=, or none. A DLT's own group by default. */
const groupOf = (ctx: KafkaContext, q: QueueName): string =>
  q.group ?? ctx.settings.group ?? (q.topic.endsWith(DLT_SUFFIX) ? DLT_GROUP : DEFAULT_GROUP)

async function stats(ctx: KafkaContext, q: QueueName): Promise<QueueStats> {
  const group = groupOf(ctx, q)
  const p = await positionOf(ctx, q.topic, group)
  const details: Record<string, unknown> = {
    topic: q.topic,
    group,
    partitions: p.offsets.length,
    inflight: 'unknown: a consumer group keeps no per-record lease (fetched, uncommitted records count as waiting)',
    deadLetterTopic: deadLetterTopicOf(q.topic),
  }
  const rates = ratesOf(ctx, p)
  if (!rates) details.rates = 'from offsets over time: shown from the second sample on (top, metrics), not on the first'
  if (!p.tracked) details.note = `group "${group}" has committed nothing on ${q.topic}: waiting = every record the topic retains`
  const isDlt = q.topic.endsWith(DLT_SUFFIX)
  return {
    name: q.text,
    kind: 'group',
    counts: {waiting: waitingOf(p), ...(isDlt ? {} : {dead: await deadCount(ctx, q.topic)})},
    consumers: await membersOf(ctx.clients.admin, group),
    oldestAgeMs: await oldestAge(ctx, p),
    ...(rates ? {rates} : {}),
    details,
  }
}

async function peek(ctx: KafkaContext, q: QueueName, options: PeekOptions): Promise<Message[]> {
  return peekWith(
    options,
    async (state: MessageState) => {
      if (state === 'waiting') return {queue: q.text, p: await positionOf(ctx, q.topic, groupOf(ctx, q))}
      if (state === 'dead') return {queue: deadLetterTopicOf(q.topic), p: await positionOf(ctx, deadLetterTopicOf(q.topic), DLT_GROUP)}
      throw new NotSupportedError(`a Kafka consumer group keeps waiting records and dead letters (TOPIC-dlt), not "${state}" ones`)
    },
    async ({queue, p}, state, limit) => {
      const ends = new Map(p.offsets.map((o) => [o.partition, o.high]))
      return (await readFrom(ctx.clients.reader, p.topic, p.from, ends, limit, ctx.where)).map((r) => toMessage(queue, r, state, false))
    },
  )
}

/** DeleteRecords up to the high watermark: every group's records go, not only this one's. */
async function purge(ctx: KafkaContext, q: QueueName, state: MessageState): Promise<number> {
  if (state !== 'waiting' && state !== 'dead') throw new NotSupportedError(`kafka:// can purge waiting records or dead letters, not "${state}"`)
  const topic = state === 'dead' ? deadLetterTopicOf(q.topic) : q.topic
  const p = await positionOf(ctx, topic, state === 'dead' ? DLT_GROUP : groupOf(ctx, q)).catch((error) => {
    if (state === 'dead' && error?.exitCode === 4) return undefined
    throw error
  })
  if (!p) return 0
  const gone = waitingOf(p)
  try {
    await ctx.clients.admin.deleteRecords({topics: [{name: topic, partitions: p.offsets.map((o) => ({partition: o.partition, offset: o.high}))}]})
  } catch (error) {
    throw requestError(error, ctx.where)
  }
  return gone
}

async function list(ctx: KafkaContext): Promise<QueueRef[]> {
  const {admin} = ctx.clients
  try {
    const topics = (await admin.listTopics({includeInternals: false})).filter((t) => !t.startsWith('__'))
    const groups = await admin.listGroups({types: CONSUMER_GROUP_TYPES})
    const out: QueueRef[] = topics.map((name) => ({name, kind: 'topic'}))
    const offsets = await admin.listConsumerGroupOffsets({groups: [...groups.values()].filter((g) => g.protocolType === 'consumer' || g.groupType === 'consumer').map((g) => g.id)})
    // TOPIC already stands for TOPIC/queuectl (and TOPIC-dlt for TOPIC-dlt/queuectl-dlt)
    const implied = (topic: string, group: string) => group === (topic.endsWith(DLT_SUFFIX) ? DLT_GROUP : DEFAULT_GROUP)
    for (const g of offsets) for (const t of g.topics ?? []) if (!implied(t.name, g.groupId)) out.push({name: `${t.name}/${g.groupId}`, kind: 'group'})
    return out.sort((a, b) => a.name.localeCompare(b.name))
  } catch (error) {
    throw requestError(error, ctx.where)
  }
}

export const groupFlavor: KafkaFlavor = {
  kind: 'group',
  async capabilities(ctx, q) {
    if (!q) return groupCapabilities
    return {...groupCapabilities, maxPayloadBytes: await ctx.maxBytes(q.topic), deadLetterQueue: `${deadLetterTopicOf(q.topic)}/${DLT_GROUP}`}
  },
  list,
  stats,
  peek,
  purge,
  consume: (ctx, q, handler, options) =>
    consumeGroup({settings: ctx.settings, topic: q.topic, group: groupOf(ctx, q), queue: q.text, publish: (r) => ctx.publish(r)}, handler, options),
}
