// Reading a topic without consuming it: partitions and their offsets (ListOffsets), a group's
// committed offsets (OffsetFetch), and records at an offset (a plain Fetch: no group joined, nothing
// committed). Everything the consumer-group flavor counts and peeks is built on these.
import type {Admin, Consumer, RecordsBatch} from '@platformatic/kafka'
import {queueNotFound} from '../../kernel/suggest.js'
import {isUnknownTopic, requestError} from './errors.js'

export interface PartitionOffsets {
  partition: number
  /** Log start offset: the first record still kept. */
  low: bigint
  /** High watermark: the offset the next record gets. */
  high: bigint
}

export interface RawRecord {
  topic: string
  partition: number
  offset: bigint
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string>
}

const IS_CONTROL = 0x20

/** The topic's partition count; a missing topic is a NotFoundError naming the near topics. */
export async function partitionsOf(admin: Admin, topic: string, where: string): Promise<number[]> {
  try {
    const meta = await admin.metadata({topics: [topic], forceUpdate: true, autocreateTopics: false})
    const t = meta.topics.get(topic)
    if (t) return Array.from({length: t.partitionsCount}, (_, i) => i)
  } catch (error) {
    if (!isUnknownTopic(error)) throw requestError(error, where)
  }
  const topics = await admin.listTopics({includeInternals: false}).catch(() => [] as string[])
  throw queueNotFound(topic, where, topics)
}

/**
 * Whether the topic exists, in one listing: asking the metadata of a missing topic fails with
 * UNKNOWN_TOPIC_OR_PARTITION, which the client retries (2 × 200 ms) before giving up — what every
 * count of a topic without a dead-letter topic paid, twice in each `work --until-empty`.
 */
export async function topicExists(admin: Admin, topic: string, where: string): Promise<boolean> {
  try {
    return (await admin.listTopics({includeInternals: false})).includes(topic)
  } catch (error) {
    throw requestError(error, where)
  }
}

/** Low and high offsets of each partition. */
export async function offsetsOf(admin: Admin, topic: string, partitions: number[], where: string): Promise<PartitionOffsets[]> {
  const ask = (timestamp: bigint) =>
    admin.listOffsets({topics: [{name: topic, partitions: partitions.map((partitionIndex) => ({partitionIndex, timestamp}))}]})
  try {
    const [earliest, latest] = await Promise.all([ask(-2n), ask(-1n)])
    const low = new Map(earliest[0]?.partitions.map((p) => [p.partitionIndex, p.offset]))
    return (latest[0]?.partitions ?? [])
      .map((p) => ({partition: p.partitionIndex, low: low.get(p.partitionIndex) ?? 0n, high: p.offset}))
      .sort((a, b) => a.partition - b.partition)
  } catch (error) {
    throw requestError(error, where)
  }
}

/** Whether the group exists on the cluster (classic or KIP-848 consumer protocol, any state). */
export async function groupExists(admin: Admin, group: string, where: string): Promise<boolean> {
  try {
    // without types the client lists classic groups only, and a consumer-protocol group's offsets were missed
    return (await admin.listGroups({types: ['classic', 'consumer']})).has(group)
  } catch (error) {
    throw requestError(error, where)
  }
}

/** The group's committed offset per partition of the topic (absent: none committed). */
export async function committedOf(admin: Admin, group: string, topic: string, partitions: number[], where: string): Promise<Map<number, bigint>> {
  try {
    const answer = await admin.listConsumerGroupOffsets({groups: [{groupId: group, topics: [{name: topic, partitionIndexes: partitions}]}]})
    const out = new Map<number, bigint>()
    for (const p of answer[0]?.topics?.find((t) => t.name === topic)?.partitions ?? []) {
      if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset)
    }
    return out
  } catch (error) {
    throw requestError(error, where)
  }
}

/** Where the group resumes in a partition: its committed offset, or the log start (auto.offset.reset=earliest). */
export const resumeAt = (p: PartitionOffsets, committed: Map<number, bigint>): bigint => {
  const c = committed.get(p.partition)
  return c === undefined || c < p.low ? p.low : c > p.high ? p.high : c
}

function decodeHeaders(pairs: [Buffer | null, Buffer | null][]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of pairs) if (k) out[k.toString('utf8')] = v ? v.toString('utf8') : ''
  return out
}

function recordsOf(topic: string, partition: number, from: bigint, batches: RecordsBatch[] | null | undefined, limit: number): RawRecord[] {
  const out: RawRecord[] = []
  for (const batch of batches ?? []) {
    if (batch.attributes & IS_CONTROL) continue
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta)
      if (offset < from) continue
      out.push({topic, partition, offset, timestamp: Number(batch.firstTimestamp + r.timestampDelta), key: r.key, value: r.value, headers: decodeHeaders(r.headers)})
      if (out.length >= limit) return out
    }
  }
  return out
}

/** Up to `limit` records of one partition from `offset` on (fewer when the fetch returns less). */
export async function readAt(reader: Consumer, topic: string, partition: number, offset: bigint, limit: number, where: string): Promise<RawRecord[]> {
  try {
    const meta = await reader.metadata({topics: [topic], autocreateTopics: false})
    const t = meta.topics.get(topic)
    const leader = t?.partitions[partition]?.leader
    if (!t || leader === undefined) return []
    const fetched = await reader.fetch({
      node: leader,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 8 * 1024 * 1024,
      topics: [{topicId: t.id, partitions: [{partition, fetchOffset: offset, partitionMaxBytes: 4 * 1024 * 1024, currentLeaderEpoch: -1, lastFetchedEpoch: -1}]}],
    })
    const part = fetched.responses[0]?.partitions.find((p) => p.partitionIndex === partition)
    return recordsOf(topic, partition, offset, part?.records, limit)
  } catch (error) {
    throw requestError(error, where)
  }
}

/** Records from `from[partition]` on, up to `limit` in all, by partition, then offset. */
export async function readFrom(reader: Consumer, topic: string, from: Map<number, bigint>, ends: Map<number, bigint>, limit: number, where: string): Promise<RawRecord[]> {
  const out: RawRecord[] = []
  for (const [partition, start] of from) {
    let at = start
    const end = ends.get(partition) ?? start
    while (at < end && out.length < limit) {
      const got = (await readAt(reader, topic, partition, at, limit - out.length, where)).filter((r) => r.offset < end)
      if (got.length === 0) break
      out.push(...got)
      at = got.at(-1)!.offset + 1n
    }
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset)).slice(0, limit)
}
