// The broker contract on RabbitMQ, once per queue type. Classic queues are declared with
// x-max-priority (so priority holds) and quorum queues without (no priorities before RabbitMQ 4);
// both dead-letter into <queue>.dlq, which the adapter finds through the management API.
import {afterAll} from 'vitest'
import {amqpCapabilities} from '../../src/adapters/amqp/capabilities.js'
import {DEFAULT_MAX_MESSAGE_BYTES} from '../../src/adapters/amqp/config.js'
import {declareQueue, dropAllTestQueues, dropQueue, openAmqp, uniqueQueue} from '../adapters/amqp/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

afterAll(() => dropAllTestQueues(), 30_000)

for (const type of ['classic', 'quorum'] as const) {
  describeBrokerContract(
    `amqp (${type} queue)`,
    {
      open: () => openAmqp(`?queueType=${type}`),
      freshQueue: (_broker, hint) => declareQueue(uniqueQueue(`${type}-${hint}`), {type, dlq: true, maxPriority: type === 'classic' ? 10 : undefined}),
      dropQueue: (_broker, q) => dropQueue(q),
      settleMs: 100,
      timeoutMs: 30_000,
    },
    // the management API is on in tests (test/setup/rabbitmq.ts); the delayed-message plugin is not
    amqpCapabilities({queueType: type, mgmt: true, delayedExchange: false, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES}),
  )
}
