// postgres:// and postgresql:// described for the registry, without loading pg.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const postgresTransport: TransportDescriptor = {
  name: 'postgres',
  schemes: ['postgres', 'postgresql'],
  summary: 'job queues kept in PostgreSQL: pg-boss (pgboss:NAME) and graphile-worker (graphile:NAME)',
  server: {name: 'PostgreSQL', port: 5432},
  examples: ['postgres://postgres@127.0.0.1:5432/test', 'postgresql://app:***@db.internal:5432/jobs?sslmode=require&schema=pgboss'],
  queueSyntax: 'pgboss:NAME or graphile:NAME',
  load: async () => (await import('./index.js')).createPostgresBroker,
}
