// amqp:// and amqps:// described for the registry, without loading amqplib.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const amqpTransport: TransportDescriptor = {
  name: 'amqp',
  schemes: ['amqp', 'amqps'],
  summary: 'RabbitMQ (management API from --mgmt-url, default same host, port 15672)',
  server: {name: 'RabbitMQ', port: 5672, portName: "RabbitMQ's AMQP port"},
  examples: ['amqp://127.0.0.1:5672/', 'amqps://ops:***@rabbit.internal/prod?queueType=quorum'],
  options: [
    {
      name: 'mgmt-url',
      summary: 'RabbitMQ management API URL (default: same host, port 15672).',
      secret: true,
      legacyContextKey: 'mgmtUrl',
    },
  ],
  headers: {
    // RabbitMQ's dead-lettering history and quorum delivery count; ours on classic queues (envelope.ts)
    broker: ['x-death', 'x-first-death-*', 'x-last-death-*', 'x-delivery-count', 'x-queuectl-attempts'],
    deadLetter: ['x-queuectl-error', 'x-queuectl-dead-from'],
  },
  load: async () => (await import('./index.js')).createAmqpBroker,
}
