// The shared contract on SQS (fauxqs emulator): once on standard queues, once on FIFO queues.
import {afterAll} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'
import type {Broker} from '../../src/broker/contract.js'
import {sqsCapabilities, sqsFifoCapabilities} from '../../src/adapters/sqs/capabilities.js'
import {adminClient, createQueueWithDlq, dropQueueWithDlq, emulatorUrl} from '../adapters/sqs/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

const admin = adminClient()
afterAll(() => admin.destroy())

// Binary payloads travel base64-encoded (4/3 larger) and SQS takes 1 MiB with attributes.
const LARGE_BINARY = 700 * 1024

let n = 0

/** Its queues have a DLQ, so a peek is refused without the opt-in (the refusal: test/adapters/sqs/peek-receives.test.ts). */
async function openConsumingReceives(query = ''): Promise<Broker> {
  const broker = await createBroker(emulatorUrl(query), {timeoutMs: 5000})
  await broker.connect()
  const peek = broker.peek.bind(broker)
  broker.peek = (queue, options) => peek(queue, {...options, consumeReceives: true})
  return broker
}
describeBrokerContract(
  'sqs (standard queue)',
  {
    open: () => openConsumingReceives(),
    freshQueue: async (_broker, hint) => (await createQueueWithDlq(admin, `${hint}-${process.pid}-${n++}`)).name,
    dropQueue: (_broker, q) => dropQueueWithDlq(admin, q),
    shortLeaseMs: 1000,
    largePayloadBytes: LARGE_BINARY,
    // the connection may hold FIFO queues too: it deduplicates, its standard queues do not
    brokerCapabilities: sqsCapabilities,
    unshown: {groups: 'fauxqs drops MessageGroupId on standard queues (AWS keeps it for fair queues)'},
  },
  {...sqsCapabilities, dedup: false},
)

describeBrokerContract(
  'sqs (FIFO queue)',
  {
    open: () => openConsumingReceives('&fifo=true&group=contract'),
    freshQueue: async (_broker, hint) => (await createQueueWithDlq(admin, `${hint}-${process.pid}-${n++}.fifo`)).name,
    dropQueue: (_broker, q) => dropQueueWithDlq(admin, q),
    shortLeaseMs: 1000,
    largePayloadBytes: LARGE_BINARY,
  },
  sqsFifoCapabilities,
)
