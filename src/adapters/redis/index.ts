// redis://, rediss:// and redis+cluster:// — plain lists, Streams and the job libraries' queues
// (./flavors/index.ts lists them; ./flavor.ts says how a queue layout plugs in). URL options:
//   redis://user:pass@host:6379/DB          db index (not on a cluster)
//   rediss://…                              TLS (--tls-ca FILE; --tls-insecure skips verification)
//   redis+cluster://h1:p1,h2:p2             Redis Cluster seeds
//   ?flavor=list|stream|bullmq|…            the kind a bare new queue name gets, and whose
//                                           capabilities the broker declares (default list)
//   ?prefix=bull                            BullMQ key prefix (default bull, {bull} on a cluster)
//   ?group=NAME                             the Streams consumer group (default: the only one, or queuectl)
//   ?leaseMs=30000                          default lease length for consume
//   ?scanBudgetMs=5000                      time allowed for SCAN-based detection
import type {BrokerFactory} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {redactUrl} from '../../kernel/redact.js'
import {createRedisFlavoredBroker} from './broker.js'
import {targetOf} from './connection.js'
import {FLAVORS, flavorByKind} from './flavors/index.js'
import {DEFAULT_SCAN_BUDGET_MS} from './scan.js'

/** The redacted URL as the user wrote it (cluster seeds back in the host list). */
function displayOf(url: URL): string {
  const copy = new URL(url.href)
  const seeds = copy.searchParams.get('seeds')
  copy.searchParams.delete('seeds')
  let shown = redactUrl(copy)
  if (seeds) shown = shown.replace(copy.host, `${copy.host},${seeds}`)
  return shown
}

export const createRedisBroker: BrokerFactory = async (url, options) => {
  const kind = url.searchParams.get('flavor') ?? 'list'
  const flavor = flavorByKind(kind)
  if (!flavor) throw new UsageError(`flavor=${kind} in the Redis URL is not one of: ${FLAVORS.map((f) => f.kind).join(', ')}`)
  const budgetText = url.searchParams.get('scanBudgetMs')
  const budget = budgetText === null ? DEFAULT_SCAN_BUDGET_MS : Number(budgetText)
  if (!Number.isFinite(budget) || budget <= 0) throw new UsageError(`scanBudgetMs=${budgetText} in the Redis URL must be a positive number`)
  return createRedisFlavoredBroker(displayOf(url), targetOf(url, options), url.searchParams, options.timeoutMs, flavor, budget)
}
