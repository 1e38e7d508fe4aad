// Contract targets for the Redis flavors, on the single Redis (own db per flavor, never db 0) and
// on the test cluster (unique names; the cluster is ours alone).
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'
import type {ContractTarget} from '../../contract/broker-contract.js'

export const REDIS_HOST = process.env.QUEUECTL_TEST_REDIS ?? '127.0.0.1:6379'

/** Databases of the shared Redis that belong to these tests (other suites use db 0). */
export const DB = {list: 9, stream: 10, bullmq: 11, spare: 12} as const

export async function openRedis(url: string): Promise<Broker> {
  const broker = await createBroker(url, {timeoutMs: 5000})
  await broker.connect()
  return broker
}

let n = 0
export function redisTarget(url: string, kind: 'list' | 'stream' | 'bullmq'): ContractTarget {
  return {
    open: () => openRedis(url),
    freshQueue: async (broker, hint) => {
      const q = `${kind}:${hint}-${process.pid}-${Date.now().toString(36)}-${n++}`
      await broker.createQueue(q)
      return q
    },
    dropQueue: (broker, q) => broker.deleteQueue(q),
    shortLeaseMs: 300,
    timeoutMs: 30_000,
  }
}

/** The test cluster's URL with a query, or a URL that fails with the reason the cluster is missing. */
export function clusterUrl(seed: string, error: string, query: string): string {
  if (!seed) throw new Error(`the test Redis Cluster did not start: ${error || 'unknown reason'} (test/setup/redis-cluster.ts)`)
  return `${seed}?${query}`
}
