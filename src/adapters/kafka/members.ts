// A consumer group's members, whichever protocol it speaks: a classic group (JoinGroup/SyncGroup)
// answers DescribeGroups; a group on the new consumer protocol (KIP-848, group.protocol=consumer,
// Kafka 4's default for new Java consumers) answers DescribeGroups with "dead" and no members, and
// is described by ConsumerGroupDescribe (API 69) on its coordinator. The client has that API on
// its protocol layer but not on its Admin, and its response parser (1.35) reads
// subscribed_topic_names as one string, not an array, and misses the assignment structs' tagged
// fields, so it fails on any group with a member: we send the client's request over the Admin's
// own connection and read the answer up to the member count, which is all `consumers` needs.
import {FindCoordinatorKeyTypes, consumerGroupDescribeV0, createAPI, kGetConnection, type Admin, type Broker as KafkaNode, type Connection, type Reader} from '@platformatic/kafka'

/** The group kinds a consumer-group queue may be read by (share groups are their own flavor). */
export const CONSUMER_GROUP_TYPES = ['classic', 'consumer']

async function coordinatorOf(admin: Admin, group: string): Promise<Connection> {
  const [coordinator] = await admin.findCoordinator({keyType: FindCoordinatorKeyTypes.GROUP, keys: [group]})
  if (!coordinator) throw new Error(`no coordinator for group ${group}`)
  const node: KafkaNode = {host: coordinator.host, port: coordinator.port}
  const withConnection = admin as unknown as {[kGetConnection](b: KafkaNode, cb: (e: Error | null, c?: Connection) => void): void}
  return new Promise((resolve, reject) => withConnection[kGetConnection](node, (error, c) => (error || !c ? reject(error ?? new Error('no connection')) : resolve(c))))
}

const GROUP_ID_NOT_FOUND = 69

/** ConsumerGroupDescribe v0 for one group: its member count (a missing group has none). */
function memberCount(_correlationId: number, _apiKey: number, _apiVersion: number, r: Reader): number {
  r.readInt32() // throttle_time_ms
  if (r.readUnsignedVarInt() - 1 < 1) return 0 // compact array: length + 1
  const errorCode = r.readInt16()
  const errorMessage = r.readNullableString()
  if (errorCode === GROUP_ID_NOT_FOUND) return 0
  if (errorCode !== 0) throw new Error(`ConsumerGroupDescribe: error ${errorCode}${errorMessage ? ` (${errorMessage})` : ''}`)
  r.readString() // group_id
  r.readString() // group_state
  r.readInt32() // group_epoch
  r.readInt32() // assignment_epoch
  r.readString() // assignor_name
  return Math.max(0, r.readUnsignedVarInt() - 1)
}

const describeMembers = createAPI<[string[], boolean], number>(consumerGroupDescribeV0.api.key, 0, consumerGroupDescribeV0.createRequest, memberCount)

/** Members of a KIP-848 consumer-protocol group (ConsumerGroupDescribe). */
async function consumerProtocolMembers(admin: Admin, group: string): Promise<number> {
  return describeMembers.async(await coordinatorOf(admin, group), [group], false)
}

/** The group's members: 0 when it has none or does not exist; undefined when the broker would not say. */
export async function membersOf(admin: Admin, group: string): Promise<number | undefined> {
  try {
    const listed = (await admin.listGroups({types: CONSUMER_GROUP_TYPES})).get(group)
    if (!listed) return 0
    if (listed.groupType === 'consumer') return await consumerProtocolMembers(admin, group)
    const g = (await admin.describeGroups({groups: [group]})).get(group)
    return g ? g.members.size : 0
  } catch {
    return undefined
  }
}
