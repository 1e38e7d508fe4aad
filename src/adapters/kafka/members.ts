// A group's members, whichever protocol it speaks: a classic group (JoinGroup/SyncGroup) answers
// DescribeGroups; a group on the new consumer protocol (KIP-848, group.protocol=consumer, Kafka 4's
// default for new Java consumers) answers DescribeGroups with "dead" and no members, and is
// described by ConsumerGroupDescribe (API 69) on its coordinator; a share group (KIP-932) by
// ShareGroupDescribe (API 77, share-protocol.ts). The client has API 69 on its protocol layer but
// not on its Admin, and its response parser (1.35) reads subscribed_topic_names as one string, not
// an array, and misses the assignment structs' tagged fields, so it fails on any group with a
// member: we send the client's request over the Admin's own connection and read the answer with our
// own parser (Kafka 4.4's ConsumerGroupDescribeResponse v0).
import {FindCoordinatorKeyTypes, consumerGroupDescribeV0, createAPI, kGetConnection, type Admin, type Broker as KafkaNode, type Connection, type Group, type Reader} from '@platformatic/kafka'
import {shareGroupDescribe} from './share-protocol.js'

/** The group kinds a consumer-group queue may be read by (share groups are their own flavor). */
export const CONSUMER_GROUP_TYPES = ['classic', 'consumer']

/** One member as its group coordinator reports it, whatever the protocol. */
export interface KafkaMember {
  memberId: string
  instanceId?: string
  clientId: string
  /** As Kafka prints it, without the leading '/'. */
  clientHost: string
  /** Topics it subscribed to (a classic member's metadata; empty where the protocol keeps none). */
  subscribed: string[]
  assigned: Array<{topic: string; partitions: number[]}>
}

export interface KafkaGroupMembers {
  protocol: 'classic' | 'consumer' | 'share'
  state: string
  members: KafkaMember[]
}

function connectionTo(admin: Admin, node: KafkaNode): Promise<Connection> {
  const withConnection = admin as unknown as {[kGetConnection](b: KafkaNode, cb: (e: Error | null, c?: Connection) => void): void}
  return new Promise((resolve, reject) => withConnection[kGetConnection](node, (error, c) => (error || !c ? reject(error ?? new Error('no connection')) : resolve(c))))
}

/** The groups by their coordinator (one FindCoordinator for all), so each coordinator is asked once. */
async function byCoordinator(admin: Admin, groups: string[]): Promise<Array<{conn: Connection; groups: string[]}>> {
  if (groups.length === 0) return []
  const found = await admin.findCoordinator({keyType: FindCoordinatorKeyTypes.GROUP, keys: groups})
  const nodes = new Map<string, {node: KafkaNode; groups: string[]}>()
  for (const c of found) {
    const key = `${c.host}:${c.port}`
    const entry = nodes.get(key) ?? {node: {host: c.host, port: c.port}, groups: []}
    entry.groups.push(c.key)
    nodes.set(key, entry)
  }
  if (found.length < groups.length) throw new Error(`no coordinator for ${groups.filter((g) => !found.some((c) => c.key === g)).join(', ')}`)
  return Promise.all([...nodes.values()].map(async (n) => ({conn: await connectionTo(admin, n.node), groups: n.groups})))
}

const GROUP_ID_NOT_FOUND = 69
const byPartition = (a: number, b: number) => a - b
const host = (h: string) => h.replace(/^\//, '')

/** An Assignment struct: its topic-partitions (each with its tagged fields), then its own tagged fields. */
function readAssignment(r: Reader): Array<{topic: string; partitions: number[]}> {
  const tps = r.readArray((t) => {
    t.readUUID()
    return {topic: t.readString(), partitions: t.readArray((p) => p.readInt32(), true, false).sort(byPartition)}
  })
  r.readTaggedFields()
  return tps
}

function readConsumerMember(m: Reader): KafkaMember {
  const memberId = m.readString()
  const instanceId = m.readNullableString() ?? undefined
  m.readNullableString() // rack_id
  m.readInt32() // member_epoch
  const clientId = m.readString()
  const clientHost = host(m.readString())
  const subscribed = m.readArray((t) => t.readString(), true, false)
  m.readNullableString() // subscribed_topic_regex
  const assigned = readAssignment(m)
  readAssignment(m) // target_assignment
  return {memberId, ...(instanceId ? {instanceId} : {}), clientId, clientHost, subscribed, assigned}
}

interface Described {
  groupId: string
  errorCode: number
  errorMessage: string | null
  described: KafkaGroupMembers
}

/** ConsumerGroupDescribe v0: every group asked, with its error code. */
function readConsumerGroups(_correlationId: number, _apiKey: number, _apiVersion: number, r: Reader): Described[] {
  r.readInt32() // throttle_time_ms
  return r.readArray((g) => {
    const errorCode = g.readInt16()
    const errorMessage = g.readNullableString()
    const groupId = g.readString()
    const state = g.readString()
    g.readInt32() // group_epoch
    g.readInt32() // assignment_epoch
    g.readString() // assignor_name
    const members = g.readArray(readConsumerMember)
    g.readInt32() // authorized_operations
    return {groupId, errorCode, errorMessage, described: {protocol: 'consumer' as const, state, members}}
  })
}

const describeConsumerGroups = createAPI<[string[], boolean], Described[]>(consumerGroupDescribeV0.api.key, 0, consumerGroupDescribeV0.createRequest, readConsumerGroups)

async function shareDescribed(conn: Connection, groups: string[]): Promise<Described[]> {
  return (await shareGroupDescribe.async(conn, groups)).map((g) => ({
    groupId: g.groupId,
    errorCode: g.error.code,
    errorMessage: g.error.message,
    described: {
      protocol: 'share' as const,
      state: g.state,
      members: g.members.map((m) => ({memberId: m.memberId, clientId: m.clientId, clientHost: host(m.clientHost), subscribed: m.topics, assigned: m.assigned})),
    },
  }))
}

/**
 * KIP-848 consumer-protocol groups' members (ConsumerGroupDescribe) or share groups' (ShareGroupDescribe),
 * one request per coordinator; a group that does not exist is left out.
 */
export async function describeMembers(admin: Admin, protocol: 'consumer' | 'share', groups: string[]): Promise<Map<string, KafkaGroupMembers>> {
  const ask = (conn: Connection, ids: string[]) => (protocol === 'share' ? shareDescribed(conn, ids) : describeConsumerGroups.async(conn, ids, false))
  const answers = await Promise.all((await byCoordinator(admin, groups)).map(({conn, groups: ids}) => ask(conn, ids)))
  const out = new Map<string, KafkaGroupMembers>()
  for (const g of answers.flat()) {
    if (g.errorCode === GROUP_ID_NOT_FOUND) continue
    if (g.errorCode !== 0) throw new Error(`${protocol === 'share' ? 'ShareGroupDescribe' : 'ConsumerGroupDescribe'} of ${g.groupId}: error ${g.errorCode}${g.errorMessage ? ` (${g.errorMessage})` : ''}`)
    out.set(g.groupId, g.described)
  }
  return out
}

/** A classic group's members from the Admin's DescribeGroups. */
export function classicMembers(group: Group): KafkaGroupMembers {
  const members = [...group.members.values()].map((m) => ({
    memberId: m.id,
    ...(m.groupInstanceId ? {instanceId: m.groupInstanceId} : {}),
    clientId: m.clientId,
    clientHost: host(m.clientHost),
    subscribed: m.metadata?.topics ?? [],
    assigned: [...(m.assignments?.values() ?? [])].map((a) => ({topic: a.topic, partitions: [...a.partitions].sort(byPartition)})),
  }))
  return {protocol: 'classic', state: group.state, members}
}

/** The group's members: 0 when it has none or does not exist; undefined when the broker would not say. */
export async function membersOf(admin: Admin, group: string): Promise<number | undefined> {
  try {
    const listed = (await admin.listGroups({types: CONSUMER_GROUP_TYPES})).get(group)
    if (!listed) return 0
    if (listed.groupType === 'consumer') return (await describeMembers(admin, 'consumer', [group])).get(group)?.members.length ?? 0
    const g = (await admin.describeGroups({groups: [group]})).get(group)
    return g ? g.members.size : 0
  } catch {
    return undefined
  }
}
