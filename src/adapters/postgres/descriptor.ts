// postgres:// and postgresql:// described for the registry, without loading pg.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const postgresTransport: TransportDescriptor = {
  name: 'postgres',
  schemes: ['postgres', 'postgresql'],
  summary: 'job queues kept in PostgreSQL: pg-boss (pgboss:NAME) and graphile-worker (graphile:NAME)',
  server: {name: 'PostgreSQL', port: 5432},
  examples: ['postgres://postgres@127.0.0.1:5432/test', 'postgresql://app:***@db.internal:5432/jobs?sslmode=require&schema=pgboss'],
  queueSyntax: 'pgboss:NAME or graphile:NAME',
  createOptions: [
    {name: 'policy', summary: 'pg-boss: the queue policy, standard (default), short, singleton or stately.', kind: 'choice', values: ['standard', 'short', 'singleton', 'stately']},
    {name: 'retry-limit', summary: 'pg-boss: retries of a failed job (retryLimit).', kind: 'integer'},
    {name: 'retry-delay', summary: 'pg-boss: the wait before a retry, whole seconds, e.g. 30s (retryDelay).', kind: 'duration'},
    {name: 'retry-backoff', summary: 'pg-boss: double the delay at each retry (retryBackoff).', kind: 'boolean'},
    {name: 'dead-letter-queue', summary: 'RabbitMQ, SQS, pg-boss: the queue dead letters go to (made when missing).', kind: 'string'},
  ],
  load: async () => (await import('./index.js')).createPostgresBroker,
}
