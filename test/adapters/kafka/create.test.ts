// `queue create` on kafka://: --partitions, --replication-factor and --retention reach the topic,
// checked with Kafka's own admin tool (kafka-topics --describe, which lists the topic's own configs).
import {afterAll, describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/kernel/errors.js'
import {makeQueue, queueOptionsFor} from '../../../src/services/ops/lifecycle.js'
import {BOOTSTRAP, deleteTopic, ensureKafka, kafkaTool, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []

afterAll(async () => {
  for (const t of made) await deleteTopic(t)
}, 120_000)

describe.skipIf(Boolean(missing))(`queue create on kafka://${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('makes the topic with the partitions, replication factor and retention.ms given', async () => {
    const topic = uniqueTopic('create')
    made.push(topic)
    const broker = await openKafka()
    try {
      const options = queueOptionsFor('kafka', {'partitions': '3', 'replication-factor': '1', 'retention': '2h'})
      expect(options).toEqual({'partitions': 3, 'replication-factor': 1, 'retention': 7_200_000})
      await makeQueue(broker, `${topic}/workers`, options)

      const described = await kafkaTool('topics', ['--bootstrap-server', BOOTSTRAP, '--describe', '--topic', topic])
      const head = described.split('\n').find((l) => l.startsWith(`Topic: ${topic}\t`) || l.includes('PartitionCount'))!
      expect(head).toMatch(/PartitionCount:\s*3\b/)
      expect(head).toMatch(/ReplicationFactor:\s*1\b/)
      // the topic's own configs (those set on it, not the cluster's defaults)
      expect(head).toMatch(/Configs:.*\bretention\.ms=7200000\b/)

      // again with no settings: kept as it is; with settings: refused, the topic untouched
      await makeQueue(broker, topic, {})
      await expect(makeQueue(broker, topic, {partitions: 5})).rejects.toThrow(/exists already: --partitions/)
      const again = await kafkaTool('topics', ['--bootstrap-server', BOOTSTRAP, '--describe', '--topic', topic])
      expect(again).toMatch(/PartitionCount:\s*3\b/)
    } finally {
      await broker.close()
    }
  }, 180_000)

  it('refuses a replication factor over the brokers there are, and a setting Kafka does not have', async () => {
    const topic = uniqueTopic('create-bad')
    made.push(topic)
    const broker = await openKafka()
    try {
      const error = await makeQueue(broker, topic, {'replication-factor': 9}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UsageError)
      expect(String((error as Error).message)).toMatch(/refused topic .* --replication-factor: .*replication factor is at most the number of brokers/)
      expect(() => queueOptionsFor('kafka', {'max-deliver': '3'})).toThrow(/--max-deliver is not a setting of kafka queues \(--max-deliver is for nats\) — it takes --partitions, --replication-factor, --retention/)
      expect(() => queueOptionsFor('kafka', {partitions: 'three'})).toThrow(/--partitions three is not a whole number/)
    } finally {
      await broker.close()
    }
    const list = await kafkaTool('topics', ['--bootstrap-server', BOOTSTRAP, '--list'])
    expect(list.split('\n')).not.toContain(topic)
  }, 180_000)
})
