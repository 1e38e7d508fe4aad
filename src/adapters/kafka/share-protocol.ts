// KIP-932 share-group requests, written on @platformatic/kafka's protocol layer (Writer, Reader,
// createAPI): the client (1.x) knows their API keys but sends none of them. ShareFetch and
// ShareAcknowledge are v2 (Kafka 4.2+: record-limit acquisition). Field order follows Kafka 4.4's
// clients/src/main/resources/common/message/*.json; every version here is flexible.
import {createAPI, readRecordsBatches, Reader, Writer, type RecordsBatch} from '@platformatic/kafka'

export interface KafkaError {
  code: number
  message: string | null
}
export interface SharePartitionOffsets {
  partition: number
  startOffset: bigint
  leaderEpoch: number
  lag: bigint
  error: KafkaError
}
export interface ShareTopicOffsets {
  topic: string
  topicId: string
  partitions: SharePartitionOffsets[]
}
export interface ShareGroupOffsets {
  groupId: string
  topics: ShareTopicOffsets[]
  error: KafkaError
}
export interface ShareMember {
  memberId: string
  clientId: string
  clientHost: string
  memberEpoch: number
  topics: string[]
  assigned: Array<{topic: string; partitions: number[]}>
}
export interface ShareGroupDescription {
  groupId: string
  state: string
  epoch: number
  members: ShareMember[]
  error: KafkaError
}
export interface HeartbeatResult {
  error: KafkaError
  memberId: string | null
  memberEpoch: number
  intervalMs: number
  assignment: Array<{topicId: string; partitions: number[]}> | null
}
export interface AcquiredRange {
  first: bigint
  last: bigint
  deliveryCount: number
}
export interface SharePartitionData {
  partition: number
  error: KafkaError
  ackError: KafkaError
  batches: RecordsBatch[]
  acquired: AcquiredRange[]
}
export interface ShareFetchResult {
  error: KafkaError
  lockTimeoutMs: number
  topics: Array<{topicId: string; partitions: SharePartitionData[]}>
}
export interface AckBatch {
  first: bigint
  last: bigint
  type: AckType
}
export interface AckTopic {
  topicId: string
  partitions: Array<{partition: number; batches: AckBatch[]}>
}
export interface ShareAckResult {
  error: KafkaError
  partitions: Array<{topicId: string; partition: number; error: KafkaError}>
}

/** KIP-932 acknowledge types: 0 is a gap (no record at that offset). */
export const AckType = {gap: 0, accept: 1, release: 2, reject: 3} as const
export type AckType = (typeof AckType)[keyof typeof AckType]

const err = (r: Reader): KafkaError => ({code: r.readInt16(), message: r.readNullableString()})

const readLeaderAndEndpoints = (r: Reader): void => {
  r.readInt32()
  r.readInt32()
  r.readTaggedFields()
}

const readNodeEndpoints = (r: Reader): void => {
  r.readArray((n) => {
    n.readInt32()
    n.readString()
    n.readInt32()
    n.readNullableString()
  })
}

export const shareGroupHeartbeat = createAPI<[group: string, memberId: string, epoch: number, topics: string[] | null], HeartbeatResult>(
  76,
  1,
  (group: string, memberId: string, epoch: number, topics: string[] | null) =>
    Writer.create()
      .appendString(group)
      .appendString(memberId)
      .appendInt32(epoch)
      .appendString(null)
      .appendArray(topics, (w, t) => w.appendString(t), true, false)
      .appendTaggedFields(),
  (_c, _k, _v, r) => {
    r.readInt32()
    const error = err(r)
    const memberId = r.readNullableString()
    const memberEpoch = r.readInt32()
    const intervalMs = r.readInt32()
    const assignment = r.readNullableStruct(() => {
      const tps = r.readArray((t) => ({topicId: t.readUUID(), partitions: t.readArray((p) => p.readInt32(), true, false)}))
      r.readTaggedFields()
      return tps
    })
    r.readTaggedFields()
    return {error, memberId, memberEpoch, intervalMs, assignment}
  },
)

export const shareGroupDescribe = createAPI<[groups: string[]], ShareGroupDescription[]>(
  77,
  1,
  (groups: string[]) =>
    Writer.create()
      .appendArray(groups, (w, g) => w.appendString(g), true, false)
      .appendBoolean(false)
      .appendTaggedFields(),
  (_c, _k, _v, r) => {
    r.readInt32()
    const groups = r.readArray((g) => {
      const error = err(g)
      const groupId = g.readString()
      const state = g.readString()
      const epoch = g.readInt32()
      g.readInt32()
      g.readString()
      const members = g.readArray((m) => {
        const memberId = m.readString()
        m.readNullableString()
        const memberEpoch = m.readInt32()
        const clientId = m.readString()
        const clientHost = m.readString()
        const topics = m.readArray((t) => t.readString(), true, false)
        // the Assignment struct: its topic-partitions, then its own tagged fields
        const assigned = m.readArray((t) => {
          t.readUUID()
          return {topic: t.readString(), partitions: t.readArray((p) => p.readInt32(), true, false).sort((a, b) => a - b)}
        })
        m.readTaggedFields()
        return {memberId, clientId, clientHost, memberEpoch, topics, assigned}
      })
      g.readInt32()
      return {groupId, state, epoch, members, error}
    })
    r.readTaggedFields()
    return groups
  },
)

export const describeShareGroupOffsets = createAPI<[group: string, topics: string[] | null], ShareGroupOffsets[]>(
  90,
  1,
  (group: string, topics: string[] | null) =>
    Writer.create()
      .appendArray([group], (w, g) =>
        w.appendString(g).appendArray(topics, (tw, t) => tw.appendString(t).appendArray([], (pw, p: number) => pw.appendInt32(p), true, false)),
      )
      .appendTaggedFields(),
  (_c, _k, _v, r) => {
    r.readInt32()
    const groups = r.readArray((g) => {
      const groupId = g.readString()
      const topics = g.readArray((t) => ({
        topic: t.readString(),
        topicId: t.readUUID(),
        partitions: t.readArray((p) => ({
          partition: p.readInt32(),
          startOffset: p.readInt64(),
          leaderEpoch: p.readInt32(),
          lag: p.readInt64(),
          error: err(p),
        })),
      }))
      return {groupId, topics, error: err(g)}
    })
    r.readTaggedFields()
    return groups
  },
)

export interface ShareFetchArgs {
  group: string
  memberId: string
  sessionEpoch: number
  maxWaitMs: number
  maxRecords: number
  /** Partitions added to the share session (all of them at epoch 0), and those it forgets. */
  topics: Array<{topicId: string; partitions: number[]}>
  acks: AckTopic[]
  forget?: Array<{topicId: string; partitions: number[]}>
}

const writeAckBatches = (w: Writer, batches: AckBatch[]): Writer =>
  w.appendArray(batches, (bw, b) =>
    bw
      .appendInt64(b.first)
      .appendInt64(b.last)
      .appendArray([b.type], (tw, t: number) => tw.appendInt8(t), true, false),
  )

// A fetch names every partition it fetches; acknowledgements ride on the partition they belong to.
const fetchTopics = (a: ShareFetchArgs): AckTopic[] => {
  const byTopic = new Map<string, Map<number, AckBatch[]>>()
  for (const t of a.topics) byTopic.set(t.topicId, new Map(t.partitions.map((p) => [p, []])))
  for (const t of a.acks) {
    const parts = byTopic.get(t.topicId) ?? new Map<number, AckBatch[]>()
    byTopic.set(t.topicId, parts)
    for (const p of t.partitions) parts.set(p.partition, [...(parts.get(p.partition) ?? []), ...p.batches])
  }
  return [...byTopic].map(([topicId, parts]) => ({topicId, partitions: [...parts].map(([partition, batches]) => ({partition, batches}))}))
}

export const shareFetch = createAPI<[args: ShareFetchArgs], ShareFetchResult>(
  78,
  2,
  (a: ShareFetchArgs) =>
    Writer.create()
      .appendString(a.group)
      .appendString(a.memberId)
      .appendInt32(a.sessionEpoch)
      .appendInt32(a.maxWaitMs)
      .appendInt32(1)
      .appendInt32(0x7fffffff)
      .appendInt32(a.maxRecords)
      .appendInt32(a.maxRecords)
      // v2: record-limit acquisition (never more than MaxRecords acquired), no renew acknowledgements
      .appendInt8(1)
      .appendBoolean(false)
      .appendArray(fetchTopics(a), (tw, t) => tw.appendUUID(t.topicId).appendArray(t.partitions, (pw, p) => writeAckBatches(pw.appendInt32(p.partition), p.batches)))
      .appendArray(a.forget ?? [], (w, t) => w.appendUUID(t.topicId).appendArray(t.partitions, (pw, p) => pw.appendInt32(p), true, false))
      .appendTaggedFields(),
  (_c, _k, _v, r) => {
    r.readInt32()
    const error = err(r)
    const lockTimeoutMs = r.readInt32()
    const topics = r.readArray((t) => ({
      topicId: t.readUUID(),
      partitions: t.readArray((p) => {
        const partition = p.readInt32()
        const perr = err(p)
        const ackError = err(p)
        readLeaderAndEndpoints(p)
        const size = p.readUnsignedVarInt() - 1
        let batches: RecordsBatch[] = []
        if (size > 0) {
          batches = readRecordsBatches(Reader.from(p.buffer.subarray(p.position, p.position + size)))
          p.skip(size)
        }
        const acquired = p.readArray((a) => ({first: a.readInt64(), last: a.readInt64(), deliveryCount: a.readInt16()}))
        return {partition, error: perr, ackError, batches, acquired}
      }),
    }))
    readNodeEndpoints(r)
    r.readTaggedFields()
    return {error, lockTimeoutMs, topics}
  },
)

export const shareAcknowledge = createAPI<[group: string, memberId: string, sessionEpoch: number, acks: AckTopic[]], ShareAckResult>(
  79,
  2,
  (group: string, memberId: string, sessionEpoch: number, acks: AckTopic[]) =>
    Writer.create()
      .appendString(group)
      .appendString(memberId)
      .appendInt32(sessionEpoch)
      .appendBoolean(false)
      .appendArray(acks, (tw, t) => tw.appendUUID(t.topicId).appendArray(t.partitions, (pw, p) => writeAckBatches(pw.appendInt32(p.partition), p.batches)))
      .appendTaggedFields(),
  (_c, _k, _v, r) => {
    r.readInt32()
    const error = err(r)
    r.readInt32() // v2: AcquisitionLockTimeoutMs
    const partitions: ShareAckResult['partitions'] = []
    r.readArray((t) => {
      const topicId = t.readUUID()
      t.readArray((p) => {
        const partition = p.readInt32()
        const perr = err(p)
        readLeaderAndEndpoints(p)
        partitions.push({topicId, partition, error: perr})
      })
    })
    readNodeEndpoints(r)
    r.readTaggedFields()
    return {error, partitions}
  },
)
