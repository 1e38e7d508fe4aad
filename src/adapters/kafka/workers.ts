// `queue workers` on kafka://: the members of consumer groups (classic: DescribeGroups; KIP-848:
// ConsumerGroupDescribe) and of share groups (ShareGroupDescribe) as their coordinator reports
// them: client id, host, member id, the partitions assigned to each. Kafka records no pid,
// concurrency or heartbeat time of a member.
import type {Admin, Group} from '@platformatic/kafka'
import type {WorkerInfo, WorkerReport} from '../../broker/contract.js'
import {requestError} from './errors.js'
import {classicMembers, describeMembers, type KafkaGroupMembers} from './members.js'

/** A queue asked for: its topic and group (the flavor's default already applied), and whether it is a share queue. */
export interface AskedGroup {
  topic: string
  group: string
  share?: boolean
}

const GROUP_TYPES = ['classic', 'consumer', 'share']

const queueName = (g: KafkaGroupMembers, topic: string, group: string) => (g.protocol === 'share' ? `share:${topic}/${group}` : `${topic}/${group}`)

function workersOf(id: string, g: KafkaGroupMembers, topics: readonly string[] | undefined): WorkerInfo[] {
  const out: WorkerInfo[] = []
  for (const m of g.members) {
    const assigned = m.assigned.filter((a) => !topics || topics.includes(a.topic))
    const mine = [...new Set([...m.assigned.map((a) => a.topic), ...m.subscribed])].filter((t) => !topics || topics.includes(t))
    if (topics && mine.length === 0) continue
    out.push({
      kind: 'kafka',
      name: m.clientId,
      host: m.clientHost,
      queues: mine.sort().map((t) => queueName(g, t, id)),
      busy: undefined,
      details: {
        memberId: m.memberId,
        ...(m.instanceId ? {groupInstanceId: m.instanceId} : {}),
        group: id,
        protocol: g.protocol,
        state: g.state,
        partitions: Object.fromEntries(assigned.map((a) => [a.topic, a.partitions])),
      },
    })
  }
  return out
}

/** The groups' members, by the protocol each speaks: one request per protocol and coordinator; a group gone is left out. */
async function describeAll(admin: Admin, wanted: ReadonlyArray<readonly [string, string]>): Promise<Map<string, KafkaGroupMembers>> {
  const of = (type: string) => wanted.filter(([, t]) => t === type).map(([id]) => id)
  const classic = wanted.filter(([, t]) => t !== 'share' && t !== 'consumer').map(([id]) => id)
  const [groups, consumer, share] = await Promise.all([
    classic.length ? admin.describeGroups({groups: classic}) : new Map<string, Group>(),
    describeMembers(admin, 'consumer', of('consumer')),
    describeMembers(admin, 'share', of('share')),
  ])
  return new Map([...[...groups].map(([id, g]) => [id, classicMembers(g)] as const), ...consumer, ...share])
}

/** The members of the groups asked for (every consumer and share group on the cluster when none are). */
export async function kafkaWorkers(admin: Admin, asked: readonly AskedGroup[], where: string): Promise<WorkerReport> {
  try {
    const listed = await admin.listGroups({types: GROUP_TYPES})
    // a share queue is read by a share group, a TOPIC/GROUP queue by a classic or KIP-848 one
    const fits = (id: string, share: boolean) => {
      const type = listed.get(id)?.groupType
      return type !== undefined && (type === 'share') === share
    }
    const wanted = asked.length
      ? [...new Map(asked.filter((a) => fits(a.group, Boolean(a.share))).map((a) => [a.group, listed.get(a.group)!.groupType])).entries()]
      : [...listed.values()].filter((g) => g.groupType === 'share' || g.protocolType === 'consumer' || g.protocolType === '').map((g) => [g.id, g.groupType] as const)
    const described = await describeAll(admin, wanted)
    const workers: WorkerInfo[] = []
    for (const [id] of wanted.sort(([a], [b]) => a.localeCompare(b))) {
      const g = described.get(id)
      if (!g) continue
      const topics = asked.length ? asked.filter((a) => a.group === id).map((a) => a.topic) : undefined
      workers.push(...workersOf(id, g, topics))
    }
    return {workers, notes: ['Kafka records group members, not processes: no pid, concurrency or heartbeat time (kafka-consumer-groups and kafka-share-groups --describe --members show the same)']}
  } catch (error) {
    throw requestError(error, where)
  }
}
