// `queue workers` on kafka://: a real consumer group member (@platformatic/kafka's own Consumer, in
// a group on a two-partition topic) shows up with its client id, host, member id and partitions,
// as kafka-consumer-groups --describe --members --verbose reports it; a group with no member, none.
import {Consumer, type MessagesStream} from '@platformatic/kafka'
import {afterAll, describe, expect, it} from 'vitest'
import {BOOTSTRAP, createTopic, deleteTopic, ensureKafka, kafkaTool, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []

afterAll(async () => {
  for (const t of made) await deleteTopic(t)
}, 120_000)

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
})
