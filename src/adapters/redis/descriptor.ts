// redis://, rediss:// and redis+cluster:// described for the registry, without loading ioredis.
import {seedsInQuery, type TransportDescriptor} from '../../broker/descriptor.js'

export const redisTransport: TransportDescriptor = {
  name: 'redis',
  schemes: ['redis', 'rediss', 'redis+cluster'],
  summary: 'Redis: lists, Streams, BullMQ, Celery, Sidekiq, RQ and asynq queues; TLS with rediss://, Redis Cluster with redis+cluster://',
  server: {name: 'Redis', port: 6379},
  examples: ['redis://127.0.0.1:6379', 'rediss://user:***@redis.internal:6380/0', 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001'],
  queueSyntax: 'kind:NAME, e.g. bullmq:emails or list:jobs (a bare name when one kind has it)',
  prepareUrl: (text) => seedsInQuery(text, ['redis+cluster']),
  load: async () => (await import('./index.js')).createRedisBroker,
}
