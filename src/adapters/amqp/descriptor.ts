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
  createOptions: [
    {name: 'type', summary: 'RabbitMQ: the queue type (default: the URL\'s ?queueType, else classic).', kind: 'choice', values: ['classic', 'quorum', 'stream']},
    {name: 'durable', summary: 'RabbitMQ: survives a broker restart (default; --no-durable for a transient classic queue).', kind: 'boolean'},
    {name: 'dead-letter-exchange', summary: 'RabbitMQ: where rejected and expired messages go (x-dead-letter-exchange).', kind: 'string'},
    {name: 'dead-letter-queue', summary: 'RabbitMQ, SQS, pg-boss: the queue dead letters go to (made when missing).', kind: 'string'},
    {name: 'max-length', summary: 'RabbitMQ: most messages kept (x-max-length).', kind: 'integer'},
    {name: 'message-ttl', summary: 'RabbitMQ: how long a message may wait, e.g. 1h (x-message-ttl).', kind: 'duration'},
    {name: 'delivery-limit', summary: 'RabbitMQ quorum: deliveries before a message is dead-lettered (x-delivery-limit).', kind: 'integer'},
  ],
  load: async () => (await import('./index.js')).createAmqpBroker,
}
