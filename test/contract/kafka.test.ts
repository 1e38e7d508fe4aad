// The shared contract on Kafka's consumer-group flavor: a fresh one-partition topic, read by its
// consumer group (TOPIC/GROUP). What a group cannot do (lease expiry, extend, in-flight counts,
// delay, priority) is declared and skipped.
import {groupCapabilities} from '../../src/adapters/kafka/capabilities.js'
import {createTopic, ensureKafka, openKafka, uniqueTopic} from '../adapters/kafka/helpers.js'
import {describeBrokerContract} from './broker-contract.js'
import {describe, it} from 'vitest'

const missing = await ensureKafka()

if (missing) {
  describe('kafka contract', () => it.skip(missing, () => {}))
} else {
  describeBrokerContract(
    'kafka (topic + consumer group)',
    {
      open: () => openKafka(),
      // a bare TOPIC is TOPIC/queuectl
      freshQueue: async (_broker, hint) => createTopic(uniqueTopic(hint)),
      // the topic and its dead-letter topic
      dropQueue: (broker, q) => broker.deleteQueue(q),
      timeoutMs: 30_000,
    },
    groupCapabilities,
  )
}
