// kafka:// and kafka+ssl:// described for the registry, without loading @platformatic/kafka.
import {seedsInQuery, type TransportDescriptor} from '../../broker/descriptor.js'

export const kafkaTransport: TransportDescriptor = {
  name: 'kafka',
  schemes: ['kafka', 'kafka+ssl'],
  summary: 'Apache Kafka 3.7+/4: a queue is a topic and its consumer group (TOPIC/GROUP, or TOPIC?group=GROUP)',
  server: {name: 'Kafka', port: 9092},
  examples: ['kafka://127.0.0.1:9092', 'kafka://user:***@kafka1:9092,kafka2:9092?mechanism=scram-sha-256', 'kafka+ssl://kafka.example.com:9093'],
  options: [
    {name: 'sasl-mechanism', summary: 'Kafka SASL mechanism for the URL user and password: plain (default), scram-sha-256 or scram-sha-512.', env: 'KAFKA_SASL_MECHANISM'},
  ],
  headers: {
    // what a dead letter carries (names.ts HEADER): dropped when it goes back to work
    broker: ['queuectl-attempts'],
    deadLetter: ['queuectl-dead-reason', 'queuectl-original-topic', 'queuectl-original-partition', 'queuectl-original-offset', 'queuectl-dead-at'],
  },
  prepareUrl: (text) => seedsInQuery(text, ['kafka', 'kafka+ssl']),
  createOptions: [
    {name: 'partitions', summary: 'Kafka: the topic\'s partitions (default: the cluster\'s num.partitions).', kind: 'integer'},
    {name: 'replication-factor', summary: 'Kafka: copies of each partition (default: the cluster\'s default.replication.factor).', kind: 'integer'},
    {name: 'retention', summary: 'Kafka: how long records are kept (retention.ms), e.g. 7d.', kind: 'duration'},
  ],
  load: async () => (await import('./index.js')).createKafkaBroker,
}
