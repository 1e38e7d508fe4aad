// `queue workers` on kafka://: real members on a two-partition topic show up with their client id,
// host, member id and partitions, as Kafka's own tools report them (--describe --members --verbose):
// a classic and a KIP-848 consumer-protocol member (@platformatic/kafka's own Consumer), and a share
// group member (Kafka's own ConsoleShareConsumer); a group with no member, none.
import {spawn, type ChildProcess} from 'node:child_process'
import {Consumer, type MessagesStream} from '@platformatic/kafka'
import {afterAll, describe, expect, it} from 'vitest'
import type {Broker, WorkerInfo} from '../../../src/broker/contract.js'
import {BOOTSTRAP, SCRIPT, createTopic, deleteTopic, ensureKafka, kafkaTool, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []
const children: ChildProcess[] = []

afterAll(async () => {
  // the share consumer's JVM is in its own process group (detached): end it and its java child
  for (const c of children) if (c.pid) process.kill(-c.pid, 'SIGKILL')
  for (const t of made) await deleteTopic(t)
}, 120_000)

/** The members of a queue, asked again until one has partitions assigned (a join takes a few heartbeats). */
async function joined(broker: Broker, queue: string): Promise<WorkerInfo[]> {
  const deadline = Date.now() + 45_000
  let report = await broker.workers({queues: [queue]})
  while (!Object.keys((report.workers[0]?.details?.['partitions'] as object) ?? {}).length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500))
    report = await broker.workers({queues: [queue]})
  }
  return report.workers
}

/** Kafka's own row for a member: `kafka-<tool> --describe --group G --members --verbose`. */
async function kafkaRow(tool: 'consumer-groups' | 'share-groups', group: string, memberId: string): Promise<string> {
  const out = await kafkaTool(tool, ['--bootstrap-server', BOOTSTRAP, '--describe', '--group', group, '--members', '--verbose'])
  const row = out.split('\n').find((l) => l.includes(memberId))
  expect(row, out).toBeDefined()
  return row!
}

describe.skipIf(Boolean(missing))(`queue workers on kafka://${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('lists a consumer group member with its client id, host, member id and partitions', async () => {
    const topic = await createTopic(uniqueTopic('workers'), 2)
    made.push(topic)
    const group = `${topic}-g`
    const consumer = new Consumer({clientId: 'wt-kafkalife-member', bootstrapBrokers: [BOOTSTRAP], groupId: group, autocommit: false, maxWaitTime: 200})
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
    const broker = await openKafka()
    try {
      stream = await consumer.consume({topics: [topic], mode: 'earliest'})
      stream.on('data', () => {})
      // joined once the coordinator has assigned the partitions
      const deadline = Date.now() + 30_000
      let report = await broker.workers({queues: [`${topic}/${group}`]})
      while (!Object.keys((report.workers[0]?.details?.partitions as object) ?? {}).length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300))
        report = await broker.workers({queues: [`${topic}/${group}`]})
      }
      expect(report.workers).toHaveLength(1)
      const [w] = report.workers
      expect(w!.kind).toBe('kafka')
      expect(w!.name).toBe('wt-kafkalife-member')
      expect(w!.queues).toEqual([`${topic}/${group}`])
      expect(w!.details?.['partitions']).toEqual({[topic]: [0, 1]})
      expect(w!.details?.['memberId']).toMatch(/^wt-kafkalife-member/)

      // the same member as Kafka's own tool shows it
      const members = await kafkaTool('consumer-groups', ['--bootstrap-server', BOOTSTRAP, '--describe', '--group', group, '--members', '--verbose'])
      const row = members.split('\n').find((l) => l.includes(String(w!.details?.['memberId'])))
      expect(row, members).toBeDefined()
      expect(row).toContain(`/${w!.host}`)
      expect(row).toContain('wt-kafkalife-member')
      expect(row).toMatch(new RegExp(`${topic}:0,1\\b`))

      // every group when none is asked: this one among them; a topic's bare name is its default group (none here)
      expect((await broker.workers({queues: []})).workers.some((x) => x.details?.['memberId'] === w!.details?.['memberId'])).toBe(true)
      expect((await broker.workers({queues: [topic]})).workers).toEqual([])
    } finally {
      await Promise.resolve(stream?.close()).catch(() => {})
      await Promise.resolve(consumer.close(true)).catch(() => {})
      await broker.close()
    }
  }, 180_000)

  it('lists a KIP-848 consumer-protocol member with its client id, host, member id and partitions', async () => {
    const topic = await createTopic(uniqueTopic('workers-848'), 2)
    made.push(topic)
    const group = `${topic}-g`
    const consumer = new Consumer({clientId: 'wt-kafka-848-member', bootstrapBrokers: [BOOTSTRAP], groupId: group, groupProtocol: 'consumer', autocommit: false, maxWaitTime: 200} as never)
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
    const broker = await openKafka()
    try {
      stream = await consumer.consume({topics: [topic], mode: 'earliest'})
      stream.on('data', () => {})
      const workers = await joined(broker, `${topic}/${group}`)
      expect(workers).toHaveLength(1)
      const [w] = workers
      expect(w!.name).toBe('wt-kafka-848-member')
      expect(w!.queues).toEqual([`${topic}/${group}`])
      expect(w!.details?.['protocol']).toBe('consumer')
      expect(w!.details?.['partitions']).toEqual({[topic]: [0, 1]})
      const row = await kafkaRow('consumer-groups', group, String(w!.details?.['memberId']))
      expect(row).toContain(`/${w!.host}`)
      expect(row).toContain('wt-kafka-848-member')
      expect(row).toMatch(new RegExp(`${topic}:0,1\\b`))
      // and no share queue of that name: the group speaks the consumer protocol
      expect((await broker.workers({queues: [`share:${topic}/${group}`]})).workers).toEqual([])
    } finally {
      await Promise.resolve(stream?.close()).catch(() => {})
      await Promise.resolve(consumer.close(true)).catch(() => {})
      await broker.close()
    }
  }, 180_000)

  it('lists a share-group member (Kafka\'s ConsoleShareConsumer) as kafka-share-groups --describe --members does', async () => {
    const topic = await createTopic(uniqueTopic('workers-share'), 2)
    made.push(topic)
    const group = `${topic}-g`
    const queue = `share:${topic}/${group}`
    const child = spawn(SCRIPT, ['tool', 'org.apache.kafka.tools.consumer.ConsoleShareConsumer', '--bootstrap-server', BOOTSTRAP, '--topic', topic, '--group', group, '--command-property', 'client.id=wt-kafka-share-member'], {
      detached: true,
      stdio: 'ignore',
    })
    children.push(child)
    const broker = await openKafka()
    try {
      const workers = await joined(broker, queue)
      expect(workers).toHaveLength(1)
      const [w] = workers
      expect(w!.kind).toBe('kafka')
      expect(w!.name).toBe('wt-kafka-share-member')
      expect(w!.queues).toEqual([queue])
      expect(w!.details?.['protocol']).toBe('share')
      expect(w!.details?.['group']).toBe(group)
      expect(w!.details?.['partitions']).toEqual({[topic]: [0, 1]})
      const row = await kafkaRow('share-groups', group, String(w!.details?.['memberId']))
      expect(row).toContain(w!.host!)
      expect(row).toContain('wt-kafka-share-member')
      expect(row).toMatch(new RegExp(`${topic}:0,1\\b`))
      // every group when none is asked: this member among them; the topic's consumer group (none here) has no one
      expect((await broker.workers({queues: []})).workers.some((x) => x.details?.['memberId'] === w!.details?.['memberId'])).toBe(true)
      expect((await broker.workers({queues: [`${topic}/${group}`]})).workers).toEqual([])
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
      await broker.close()
    }
  }, 180_000)
})
