// The shared contract on SQS (fauxqs emulator): once on standard queues, once on FIFO queues.
import {afterAll} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'
import {sqsCapabilities, sqsFifoCapabilities} from '../../src/adapters/sqs/capabilities.js'
import {adminClient, createQueueWithDlq, dropQueueWithDlq, emulatorUrl} from '../adapters/sqs/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

const admin = adminClient()
afterAll(() => admin.destroy())

// Binary payloads travel base64-encoded (4/3 larger) and SQS takes 1 MiB with attributes.
const LARGE_BINARY = 700 * 1024

let n = 0
describeBrokerContract(
  'sqs (standard queue)',
  {
    open: async () => {
      const broker = await createBroker(emulatorUrl(), {timeoutMs: 5000})
      await broker.connect()
      return broker
    },
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
    open: async () => {
      const broker = await createBroker(emulatorUrl('&fifo=true&group=contract'), {timeoutMs: 5000})
      await broker.connect()
      return broker
    },
    freshQueue: async (_broker, hint) => (await createQueueWithDlq(admin, `${hint}-${process.pid}-${n++}.fifo`)).name,
    dropQueue: (_broker, q) => dropQueueWithDlq(admin, q),
    shortLeaseMs: 1000,
    largePayloadBytes: LARGE_BINARY,
  },
  sqsFifoCapabilities,
)
