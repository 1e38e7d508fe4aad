// `queue workers` on kafka://: the members of consumer groups as the group coordinator reports them
// (DescribeGroups): client id, host, member id, the partitions assigned to each. Kafka records no
// pid, concurrency or heartbeat time of a member. Share groups' members are not listed here yet.
import type {Admin, Group} from '@platformatic/kafka'
import type {WorkerInfo, WorkerReport} from '../../broker/contract.js'
import {requestError} from './errors.js'
import {CONSUMER_GROUP_TYPES, membersOf as memberCount} from './members.js'

/** A consumer-group queue asked for: its topic and group (the flavor's default already applied). */
export interface AskedGroup {
  topic: string
  group: string
}

function membersOf(id: string, group: Group, topics: readonly string[] | undefined): WorkerInfo[] {
  const out: WorkerInfo[] = []
  for (const m of group.members.values()) {
    const assigned = [...(m.assignments?.values() ?? [])].map((a) => ({topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y)}))
    const subscribed = m.metadata?.topics ?? []
    const mine = [...new Set([...assigned.map((a) => a.topic), ...subscribed])].filter((t) => !topics || topics.includes(t))
    if (topics && mine.length === 0) continue
    out.push({
      kind: 'kafka',
      name: m.clientId,
      host: m.clientHost.replace(/^\//, ''),
      queues: mine.sort().map((t) => `${t}/${id}`),
      busy: undefined,
      details: {
        memberId: m.id,
        ...(m.groupInstanceId ? {groupInstanceId: m.groupInstanceId} : {}),
        group: id,
        state: group.state,
        partitions: Object.fromEntries(assigned.filter((a) => !topics || topics.includes(a.topic)).map((a) => [a.topic, a.partitions])),
      },
    })
  }
  return out
}

/** The members of the groups asked for (every consumer group on the cluster when none are). */
export async function kafkaWorkers(admin: Admin, asked: readonly AskedGroup[], where: string): Promise<WorkerReport> {
  try {
    const listed = await admin.listGroups({types: CONSUMER_GROUP_TYPES})
    const ids = asked.length
      ? [...new Set(asked.map((a) => a.group))]
      : [...listed.values()].filter((g) => g.groupType !== 'share' && (g.protocolType === 'consumer' || g.protocolType === '')).map((g) => g.id)
    // a KIP-848 group answers DescribeGroups with no members: counted (members.ts), not listed
    const kip848 = ids.filter((id) => listed.get(id)?.groupType === 'consumer')
    const classic = ids.filter((id) => !kip848.includes(id))
    const groups = classic.length ? await admin.describeGroups({groups: classic}) : new Map<string, Group>()
    const workers: WorkerInfo[] = []
    for (const id of ids.sort()) {
      const group = groups.get(id)
      if (!group) continue
      const topics = asked.length ? asked.filter((a) => a.group === id).map((a) => a.topic) : undefined
      workers.push(...membersOf(id, group, topics))
    }
    const notes = ['Kafka records group members, not processes: no pid, concurrency or heartbeat time (kafka-consumer-groups --describe --members shows the same)']
    for (const id of kip848) {
      const n = await memberCount(admin, id)
      if (n) notes.push(`group ${id} uses the consumer protocol (KIP-848): its ${n} member(s) count in inspect but are not listed here yet — kafka-consumer-groups --describe --group ${id} --members lists them`)
    }
    return {workers, notes}
  } catch (error) {
    throw requestError(error, where)
  }
}
