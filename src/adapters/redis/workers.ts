// The workers the job libraries on Redis record, read as their own tools read them:
//   BullMQ and Bull  CLIENT LIST names <prefix>:<base64 queue>[:w:<worker name>] (Queue.getWorkers)
//   Sidekiq          `processes` set, each IDENTITY hash (info JSON, busy, beat) and IDENTITY:work(ers)
//   RQ               `rq:workers` set of rq:worker:<name> hashes (state, current_job, last_heartbeat)
//   Celery           its broadcast inspect mailbox (celery-inspect.ts): stats, active, active_queues
// Plain lists and Streams keep no registry; asynq's servers are not read here.
import type {Redis} from 'ioredis'
import type {WorkerInfo, WorkerReport, WorkersOptions} from '../../broker/contract.js'
import {selectWorkers} from '../../broker/kit/workers.js'
import {celeryWorkers} from './celery-inspect.js'
import {within} from '../../broker/kit/deadline.js'
import {INSPECT_WAIT_MS} from '../formats/celery-inspect.js'
import type {RedisClient} from './connection.js'

/** Sidekiq's heartbeat key lives 60 s: a process that has not beaten since is gone (Sidekiq::ProcessSet drops it). */
export const SIDEKIQ_STALE_MS = 60_000
/** RQ's default worker_ttl (420 s): a worker key not refreshed since is dead. */
export const RQ_STALE_MS = 420_000

const NOTES = [
  'plain lists, Streams and Bee-Queue keep no registry of their consumers (Streams: XINFO CONSUMERS shows their groups)',
  'asynq servers are not listed yet (asynq dash shows them); Celery workers show when they answer the inspect broadcast within a second',
]

export interface RedisWorkerSources {
  client: RedisClient
  bullPrefix: string
  /** Celery's inspect broadcast: the db (its fanout channel names it) and a connection to block on for replies; absent on a Cluster. */
  celery?: {db: number; reader: () => Promise<RedisClient>}
}

export async function redisWorkers(sources: RedisWorkerSources, options: WorkersOptions): Promise<WorkerReport> {
  const {client, bullPrefix} = sources
  const [bull, sidekiq, rq, celery] = await Promise.all([bullWorkers(client, bullPrefix), sidekiqWorkers(client), rqWorkers(client), celeryOf(sources)])
  const now = Date.now()
  return {
    workers: [
      ...selectWorkers(bull, options),
      ...selectWorkers(sidekiq, options, SIDEKIQ_STALE_MS, now),
      ...selectWorkers(rq, options, RQ_STALE_MS, now),
      ...selectWorkers(celery, options),
    ],
    notes: NOTES,
  }
}

async function celeryOf(sources: RedisWorkerSources): Promise<WorkerInfo[]> {
  if (!sources.celery) return []
  // bounded here too: a half-open connection must not hang `queue workers`
  return within(celeryWorkers(sources.client, sources.celery.reader, sources.celery.db), INSPECT_WAIT_MS + 5000, () => new Error('Celery inspect did not answer in time'))
}

function nodesOf(client: RedisClient): Redis[] {
  return 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as Redis]
}

/** One CLIENT LIST line as key → value. */
function parseClient(line: string): Record<string, string> {
  return Object.fromEntries(line.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
}

async function bullWorkers(client: RedisClient, prefix: string): Promise<WorkerInfo[]> {
  const lists = await Promise.all(nodesOf(client).map((n) => (n.call('CLIENT', 'LIST') as Promise<string>).catch(() => '')))
  const now = Date.now()
  const workers: WorkerInfo[] = []
  for (const line of lists.join('\n').split(/\r?\n/)) {
    const c = parseClient(line)
    const m = c.name ? new RegExp(`^${prefix.replace(/[{}]/g, '\\$&')}:([A-Za-z0-9+/=]+)(?::w:(.+))?$`).exec(c.name) : null
    if (!m) continue
    const queue = Buffer.from(m[1]!, 'base64').toString('utf8')
    if (Buffer.from(queue, 'utf8').toString('base64') !== m[1]) continue // not a base64 queue name: another client's name
    workers.push({
      kind: 'bull',
      name: m[2] ?? `client ${c.id}`,
      host: c.addr?.replace(/:\d+$/, ''),
      queues: [queue],
      startedAt: c.age ? now - Number(c.age) * 1000 : undefined,
      details: {clientId: c.id, addr: c.addr, idleSeconds: Number(c.idle), lastCommand: c.cmd},
    })
  }
  // BullMQ keeps <prefix>:<queue>:meta; Bull 3/4 does not
  const kinds = await Promise.all(workers.map((w) => client.exists(`${prefix}:${w.queues[0]}:meta`).catch(() => 0)))
  return workers.map((w, i) => {
    const kind = kinds[i] ? 'bullmq' : 'bull'
    return {...w, kind, queues: [`${kind}:${w.queues[0]}`]}
  })
}

/** Sidekiq and RQ write seconds (Sidekiq 8: ms) as floats; anything past year 5000 in seconds is ms. */
const epochMs = (n: number) => (n > 1e11 ? n : n * 1000)

async function sidekiqWorkers(client: RedisClient): Promise<WorkerInfo[]> {
  const identities = await client.smembers('processes').catch(() => [] as string[])
  const found = await Promise.all(identities.map(async (identity) => sidekiqProcess(client, identity)))
  return found.filter((w): w is WorkerInfo => w !== undefined)
}

async function sidekiqProcess(client: RedisClient, identity: string): Promise<WorkerInfo | undefined> {
  // IDENTITY:work since Sidekiq 7, IDENTITY:workers before
  const [hash, work, work6] = await Promise.all([client.hgetall(identity), client.hgetall(`${identity}:work`), client.hgetall(`${identity}:workers`)])
  if (!hash.info) return undefined
  let info: {hostname?: string; pid?: number; tag?: string; concurrency?: number; queues?: string[]; started_at?: number; version?: string; labels?: string[]}
  try {
    info = JSON.parse(hash.info) as typeof info
  } catch {
    return undefined
  }
  const current = [...Object.values(work), ...Object.values(work6)].map((raw) => sidekiqJob(raw))
  return {
    kind: 'sidekiq',
    name: identity,
    host: info.hostname,
    pid: info.pid,
    queues: (info.queues ?? []).map((q) => `sidekiq:${q}`),
    concurrency: info.concurrency,
    busy: hash.busy === undefined ? current.length : Number(hash.busy),
    current,
    startedAt: info.started_at === undefined ? undefined : Math.round(epochMs(info.started_at)),
    lastSeenAt: hash.beat === undefined ? undefined : Math.round(epochMs(Number(hash.beat))),
    version: info.version,
    details: {tag: info.tag, quiet: hash.quiet === 'true', labels: info.labels},
  }
}

/** One IDENTITY:work value: {queue, payload (a JSON string since Sidekiq 7), run_at}. */
function sidekiqJob(raw: string): NonNullable<WorkerInfo['current']>[number] {
  try {
    const w = JSON.parse(raw) as {queue?: string; payload?: string | {jid?: string; class?: string; wrapped?: string}; run_at?: number}
    const p = typeof w.payload === 'string' ? (JSON.parse(w.payload) as {jid?: string; class?: string; wrapped?: string}) : (w.payload ?? {})
    return {id: p.jid ?? '?', name: p.wrapped ?? p.class, queue: w.queue && `sidekiq:${w.queue}`, startedAt: w.run_at === undefined ? undefined : Math.round(epochMs(w.run_at))}
  } catch {
    return {id: '?'}
  }
}

async function rqWorkers(client: RedisClient): Promise<WorkerInfo[]> {
  const keys = await client.smembers('rq:workers').catch(() => [] as string[])
  const found = await Promise.all(
    keys.map(async (key): Promise<WorkerInfo | undefined> => {
      const h = await client.hgetall(key).catch(() => ({}) as Record<string, string>)
      if (!h.queues && !h.birth) return undefined // expired: RQ drops it from the set at its next clean-up
      const current = h.current_job ? [{id: h.current_job}] : []
      return {
        kind: 'rq',
        name: key.replace(/^rq:worker:/, ''),
        host: h.hostname,
        pid: h.pid ? Number(h.pid) : undefined,
        queues: (h.queues ?? '').split(',').filter(Boolean).map((q) => `rq:${q}`),
        concurrency: 1,
        busy: h.state === 'busy' ? 1 : 0,
        current,
        startedAt: rqDate(h.birth),
        lastSeenAt: rqDate(h.last_heartbeat),
        version: h.version ? `rq ${h.version}` : undefined,
        details: {state: h.state, python: h.python_version},
      }
    }),
  )
  return found.filter((w): w is WorkerInfo => w !== undefined)
}

/** RQ's dates: '2024-05-01T12:00:00.123456Z' (utcformat). */
function rqDate(text: string | undefined): number | undefined {
  if (!text) return undefined
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'))
  return Number.isNaN(ms) ? undefined : ms
}
