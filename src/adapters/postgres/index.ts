// postgres:// and postgresql:// — job queues that live in PostgreSQL: pg-boss and graphile-worker
// (see ./flavor.ts for how a library plugs in). URL options:
//   postgres://user:pass@host:5432/db   the database holding the job tables
//   ?sslmode=disable|require|verify-ca|verify-full   TLS (--tls-ca FILE; --tls-insecure skips verification)
//   ?schema=NAME                         a non-default schema (pg-boss's pgboss, graphile-worker's graphile_worker)
//   ?pgbossSchema= / ?graphileSchema=    one library's schema each
//   ?flavor=pgboss|graphile              the library a new bare queue name goes to, and whose capabilities the broker declares
import type {BrokerFactory} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {redactUrl} from '../../kernel/redact.js'
import {FLAVORS, createPostgresFlavoredBroker, flavorByKind} from './broker.js'
import {targetOf} from './connection.js'

export const createPostgresBroker: BrokerFactory = async (url, options) => {
  const kind = url.searchParams.get('flavor') ?? undefined
  if (kind !== undefined && !flavorByKind(kind)) {
    throw new UsageError(`flavor=${kind} in the PostgreSQL URL is not one of: ${FLAVORS.map((f) => f.kind).join(', ')}`)
  }
  return createPostgresFlavoredBroker(redactUrl(url), targetOf(url, options), url.searchParams, kind)
}
