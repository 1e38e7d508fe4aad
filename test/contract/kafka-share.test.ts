// The shared contract on Kafka's share-group flavor (KIP-932): share:TOPIC/GROUP on a fresh
// one-partition topic whose group Kafka's own kafka-share-groups --reset-offsets made (start offset
// 0, so what is enqueued before a consumer joins is delivered). The acquisition lock is set to its
// 15 s floor for the expiry test. What a share group cannot do (peek, purge, delay, extend…) is
// declared and skipped.
import {Admin} from '@platformatic/kafka'
import {groupCapabilities} from '../../src/adapters/kafka/capabilities.js'
import {shareCapabilities} from '../../src/adapters/kafka/share.js'
import {BOOTSTRAP, createTopic, ensureKafka, kafkaTool, openKafka, uniqueTopic} from '../adapters/kafka/helpers.js'
import {describeBrokerContract} from './broker-contract.js'
import {describe, it} from 'vitest'

const missing = await ensureKafka()
const LOCK_MS = 15_000

async function freshShareQueue(hint: string): Promise<string> {
  const topic = await createTopic(uniqueTopic(`share-${hint}`))
  const group = `${topic}-g`
  await kafkaTool('share-groups', ['--bootstrap-server', BOOTSTRAP, '--reset-offsets', '--to-earliest', '--execute', '--group', group, '--topic', topic])
  const admin = new Admin({clientId: 'wt-share-contract', bootstrapBrokers: [BOOTSTRAP]})
  try {
    await admin.incrementalAlterConfigs({
      resources: [{resourceType: 32 as never, resourceName: group, configs: [{name: 'share.record.lock.duration.ms', configOperation: 0, value: String(LOCK_MS)}]}],
    })
  } finally {
    await admin.close()
  }
  return `share:${topic}/${group}`
}

if (missing) {
  describe('kafka share contract', () => it.skip(missing, () => {}))
} else {
  describeBrokerContract(
    'kafka (share group)',
    {
      open: () => openKafka(),
      freshQueue: async (_broker, hint) => freshShareQueue(hint),
      // the group (kafka-share-groups --delete), then its topic
      dropQueue: async (broker, q) => {
        await broker.deleteQueue(q).catch(() => {})
        await broker.deleteQueue(q.slice('share:'.length).split('/')[0]!)
      },
      shortLeaseMs: LOCK_MS,
      timeoutMs: 60_000,
      // capabilitiesOf() without a queue is the transport's default flavor's (consumer groups)
      brokerCapabilities: groupCapabilities,
    },
    shareCapabilities,
  )
}
