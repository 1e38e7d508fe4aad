// redis://, rediss:// and redis+cluster:// described for the registry, without loading ioredis.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const redisTransport: TransportDescriptor = {
  name: 'redis',
  schemes: ['redis', 'rediss', 'redis+cluster'],
  summary: 'Redis: lists, Streams, BullMQ, Celery, Sidekiq, RQ and asynq queues; TLS with rediss://, Redis Cluster with redis+cluster://',
  examples: ['redis://127.0.0.1:6379', 'rediss://user:***@redis.internal:6380/0', 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001'],
  prepareUrl: clusterSeeds,
  load: async () => (await import('./index.js')).createRedisBroker,
}

// WHATWG URLs hold one host; redis+cluster://h1:p1,h2:p2 keeps the first as the host and the
// other seeds in ?seeds=h2:p2 (the Redis adapter reads both and shows the list again).
function clusterSeeds(text: string): string {
  const match = /^(redis\+cluster:\/\/(?:[^@/?#]*@)?)([^/?#]+)(.*)$/i.exec(text)
  if (!match || !match[2]!.includes(',')) return text
  const [first, ...rest] = match[2]!.split(',').filter(Boolean)
  const tail = match[3]!
  const hash = tail.indexOf('#')
  const [body, fragment] = hash >= 0 ? [tail.slice(0, hash), tail.slice(hash)] : [tail, '']
  return `${match[1]}${first}${body}${body.includes('?') ? '&' : '?'}seeds=${rest.join(',')}${fragment}`
}
