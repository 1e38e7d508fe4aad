// Contract targets for the Redis flavors, on the single Redis (own db per flavor, never db 0) and
// on the test cluster (unique names; the cluster is ours alone).
import {Redis} from 'ioredis'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker, Message} from '../../../src/broker/contract.js'
import type {ContractTarget} from '../../contract/broker-contract.js'

export const REDIS_HOST = process.env.QUEUECTL_TEST_REDIS ?? '127.0.0.1:6379'

/** Databases of the shared Redis that belong to these tests (others use 0, 5–8 for the library interop tests, 13 for ops and e2e). */
export const DB = {list: 9, stream: 10, bullmq: 11, spare: 12, celery: 14, sidekiq: 15, rq: 3, asynq: 4} as const

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

/** A raw connection to one db of the single Redis, for what the broker cannot do itself (make an RQ queue, drop an asynq one). */
async function withRaw<T>(db: number, work: (raw: Redis) => Promise<T>): Promise<T> {
  const [host, port] = REDIS_HOST.split(':')
  const raw = new Redis({host, port: Number(port ?? 6379), db, lazyConnect: true, maxRetriesPerRequest: 1})
  try {
    await raw.connect()
    return await work(raw)
  } finally {
    raw.disconnect()
  }
}

/** Every key matching `pattern` in the db, deleted. */
async function deleteMatching(raw: Redis, pattern: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await raw.del(...keys)
  } while (cursor !== '0')
}

/** The job's positional arguments, as the Celery and Sidekiq flavors decode them (Message.body). */
const argsOf = (m: Message): unknown[] => ((m.body as {args?: unknown[]} | undefined)?.args ?? [])

export type LibraryKind = 'celery' | 'sidekiq' | 'rq' | 'asynq'

/**
 * Contract targets for the job-library flavors. Their own workers consume (capabilities.consume
 * false), RQ jobs are pickled calls queuectl never writes (capabilities.enqueue false), every
 * message needs a task name, and Celery and Sidekiq keep JSON arguments inside their own job
 * rather than payload bytes.
 */
export function libraryTarget(kind: LibraryKind): ContractTarget {
  const db = DB[kind]
  const url = `redis://${REDIS_HOST}/${db}?flavor=${kind}`
  const base = {
    open: () => openRedis(url),
    timeoutMs: 30_000,
    job: {name: 'contract.task'} as NonNullable<ContractTarget['job']>,
  }
  const unique = (hint: string) => `${hint}-${process.pid}-${Date.now().toString(36)}-${n++}`
  switch (kind) {
    case 'celery':
      return {
        ...base,
        job: {name: 'contract.task', argsOf},
        freshQueue: async (broker, hint) => {
          const q = `celery:${unique(hint)}`
          await broker.createQueue(q)
          return q
        },
        dropQueue: (broker, q) => broker.deleteQueue(q),
      }
    case 'sidekiq':
      return {
        ...base,
        job: {name: 'Contract::Task', argsOf},
        // a Redis Sidekiq has run on has its counters: without them an empty member of the common
        // name `queues` is not taken for a Sidekiq queue (src/adapters/redis/flavors/sidekiq.ts markers)
        open: async () => {
          await withRaw(db, (raw) => raw.set('stat:processed', '0', 'NX'))
          return openRedis(url)
        },
        freshQueue: async (broker, hint) => {
          const q = `sidekiq:${unique(hint)}`
          await broker.createQueue(q)
          return q
        },
        // the schedule set is shared by every queue: take this queue's delayed jobs out too
        dropQueue: async (broker, q) => {
          await broker.purge(q, 'delayed')
          await broker.deleteQueue(q)
        },
      }
    case 'rq':
      return {
        ...base,
        // RQ has no empty-queue registration of its own besides rq:queues, which Queue() writes
        freshQueue: async (_broker, hint) => {
          const name = unique(hint)
          await withRaw(db, (raw) => raw.sadd('rq:queues', `rq:queue:${name}`))
          return `rq:${name}`
        },
        dropQueue: (_broker, q) => withRaw(db, async (raw) => {
          const name = q.slice('rq:'.length)
          await raw.srem('rq:queues', `rq:queue:${name}`)
          await raw.del(`rq:queue:${name}`)
        }),
      }
    case 'asynq':
      return {
        ...base,
        freshQueue: async (broker, hint) => {
          const q = `asynq:${unique(hint)}`
          await broker.createQueue(q)
          return q
        },
        // queuectl does not delete asynq queues: do what `asynq queue rm --force` does
        dropQueue: (_broker, q) => withRaw(db, async (raw) => {
          const name = q.slice('asynq:'.length)
          await raw.srem('asynq:queues', name)
          await deleteMatching(raw, `asynq:{${name}}:*`)
        }),
      }
  }
}
