// Redis adapter throughput per flavor vs a raw ioredis loop doing the same commands (and, for
// bullmq, vs bullmq's own addBulk and Worker), side by side in one run; rounds alternate which
// goes first; medians.
// Run: npm run build && npx tsx bench/redis.ts [messages=20000] [rounds=3] [url=redis://127.0.0.1:6379/13]
// Enqueue: one enqueue() call of N messages (the adapter chunks and pipelines) vs LPUSH / XADD
// pipelines / addBulk in chunks of 1,000. Consume: prefetch 100, ack each message at once.
import {hash} from 'node:crypto'
import {Queue, Worker} from 'bullmq'
import {Redis} from 'ioredis'
import type {Broker} from '../src/broker/contract.js'

// the built adapter, as users run it (tsx's transform would add per-closure overhead to our side only)
// (imported by URL so typechecking does not depend on a build being present)
const built = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href)
const {createBroker} = (await built('adapters/registry.js')) as typeof import('../src/adapters/registry.js')

const N = Number(process.argv[2] ?? 20_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const URL_TEXT = process.argv[4] ?? 'redis://127.0.0.1:6379/13'
const url = new globalThis.URL(URL_TEXT)
const db = Number(url.pathname.slice(1) || 0)
const PREFETCH = 100
const CHUNK = 1000
const tag = `qctl-bench-${process.pid}`
const payload = (i: number) => JSON.stringify({seq: i, to: 'ada@example.com', body: 'x'.repeat(200)})
const payloads = Array.from({length: N}, (_, i) => payload(i))

const raw = new Redis({host: url.hostname, port: Number(url.port || 6379), db, maxRetriesPerRequest: null})

// the adapter's list scripts, verbatim, so the raw loop sends the same commands
const FETCH = `local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  redis.call('ZADD', KEYS[3], ARGV[2], v)
  out[#out + 1] = v
end
return out`
const SETTLE = `local n = redis.call('LREM', KEYS[1], 1, ARGV[1])
if n == 1 and ARGV[2] ~= '' then
  if ARGV[3] == 'R' then redis.call('RPUSH', KEYS[3], ARGV[2]) else redis.call('LPUSH', KEYS[3], ARGV[2]) end
end
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('ZREM', KEYS[2], ARGV[1]) end
return n`
raw.defineCommand('benchFetch', {numberOfKeys: 3, lua: FETCH})
raw.defineCommand('benchSettle', {numberOfKeys: 3, lua: SETTLE})
// items are read and sent back as Buffers, as the adapter must (payloads are bytes, not text)
type Scripted = Redis & {
  benchFetchBuffer(a: string, b: string, c: string, n: number, deadline: number): Promise<Buffer[]>
  benchSettle(a: string, b: string, c: string, v: Buffer, next: string, side: string): Promise<number>
}
const scripted = raw as Scripted

const chunks = <T>(items: T[]) => Array.from({length: Math.ceil(items.length / CHUNK)}, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK))

// ---- raw loops ----
/** Keeps up to PREFETCH fetched items unsettled, settling each at once, until N are settled. */
async function rawConsume<T>(fetch: (room: number) => Promise<T[]>, settle: (item: T) => Promise<unknown>): Promise<void> {
  let got = 0
  let outstanding = 0
  await new Promise<void>((resolve, reject) => {
    const loop = async () => {
      while (got < N) {
        const room = PREFETCH - outstanding
        if (room <= 0) {
          await new Promise((r) => setImmediate(r))
          continue
        }
        const items = await fetch(room)
        for (const item of items) {
          outstanding++
          void settle(item).then(() => {
            outstanding--
            if (++got === N) resolve()
          }, reject)
        }
        if (items.length === 0) await new Promise((r) => setTimeout(r, 1))
      }
    }
    loop().catch(reject)
  })
}

const rawList = {
  enqueue: async (key: string) => {
    for (const c of chunks(payloads)) await raw.lpush(key, ...c)
  },
  consume: async (key: string) => {
    const [processing, leases] = [`{${key}}:processing`, `{${key}}:leases`]
    await rawConsume(
      (room) => scripted.benchFetchBuffer(key, processing, leases, room, Date.now() + 30_000),
      (v) => scripted.benchSettle(processing, leases, key, v, '', 'R'),
    )
  },
}

// the list adapter must return ids, and a raw item's id is a hash of its bytes (list-codec rawId):
// the same loop plus that hash shows how much of the gap is the ids alone
const rawListWithIds = async (key: string) => {
  const ids: string[] = []
  for (const c of chunks(payloads)) {
    const pushed = raw.lpush(key, ...c)
    for (const p of c) ids.push(hash('sha1', p, 'hex').slice(0, 20))
    await pushed
  }
}

const rawStream = {
  enqueue: async (key: string) => {
    for (const c of chunks(payloads)) {
      const pipe = raw.pipeline()
      for (const p of c) pipe.call('XADD', key, '*', 'payload', p)
      await pipe.exec()
    }
  },
  consume: async (key: string) => {
    await raw.call('XGROUP', 'CREATE', key, 'g', '0', 'MKSTREAM').catch(() => {})
    await rawConsume(
      async (room) => {
        const reply = (await raw.callBuffer('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', room, 'STREAMS', key, '>')) as unknown[] | null
        const entries = (reply && (Buffer.isBuffer(reply[0]) ? reply[1] : (reply[0] as unknown[])?.[1])) as [Buffer, Buffer[]][] | undefined
        return (entries ?? []).map(([id]) => id)
      },
      (id) => raw.call('XACK', key, 'g', id),
    )
  },
}

const rawBullmq = {
  enqueue: async (name: string) => {
    const q = new Queue(name, {connection: raw})
    for (const c of chunks(payloads)) await q.addBulk(c.map((p) => ({name: 'default', data: JSON.parse(p)})))
    await q.close()
  },
  consume: async (name: string) => {
    let got = 0
    let done!: () => void
    const finished = new Promise<void>((resolve) => (done = resolve))
    const connection = raw.duplicate()
    const worker = new Worker(name, async () => {
      if (++got === N) done()
    }, {connection, concurrency: PREFETCH})
    await finished
    await worker.close()
    // bullmq leaves a connection it was given open: without this the bench never exits
    connection.disconnect()
  },
}

// ---- the adapter ----
async function adapterEnqueue(broker: Broker, queue: string, ids = true): Promise<void> {
  await broker.enqueue(queue, payloads.map((p) => ({payload: p})), {ids})
}

async function adapterConsume(broker: Broker, queue: string): Promise<void> {
  let got = 0
  let sub: Awaited<ReturnType<Broker['consume']>> | undefined
  await new Promise<void>((resolve, reject) => {
    void broker
      .consume(queue, (lease) => {
        void lease.ack().then(() => {
          if (++got === N) resolve()
        }, reject)
      }, {prefetch: PREFETCH})
      .then((s) => (sub = s), reject)
  })
  await sub!.close()
}

// ---- measuring ----
async function measure(run: () => Promise<void>, what = ''): Promise<{rate: number; cpuUs: number}> {
  if (process.env.BENCH_DEBUG) process.stderr.write(`${what}…\n`)
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  await run()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const used = process.cpuUsage(cpu)
  return {rate: (N / ms) * 1000, cpuUs: (used.user + used.system) / N}
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function cleanup(): Promise<void> {
  for await (const keys of raw.scanStream({match: `*${tag}*`, count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
}

const broker = await createBroker(URL_TEXT, {timeoutMs: 5000})
await broker.connect()
const rows: string[] = []
for (const kind of ['list', 'stream', 'bullmq'] as const) {
  const rawOps = {list: rawList, stream: rawStream, bullmq: rawBullmq}[kind]
  const results = {rawEnq: [] as {rate: number; cpuUs: number}[], idsEnq: [] as {rate: number; cpuUs: number}[], noIdsEnq: [] as {rate: number; cpuUs: number}[], adEnq: [] as {rate: number; cpuUs: number}[], rawCon: [] as {rate: number; cpuUs: number}[], adCon: [] as {rate: number; cpuUs: number}[]}
  for (let round = 0; round < ROUNDS; round++) {
    const rawName = `${tag}-raw-${kind}-${round}`
    const adName = `${tag}-ad-${kind}-${round}`
    const order = round % 2 === 0 ? ['raw', 'adapter'] : ['adapter', 'raw']
    for (const who of order) {
      if (who === 'raw') results.rawEnq.push(await measure(() => rawOps.enqueue(rawName), `${kind} raw enqueue`))
      else results.adEnq.push(await measure(() => adapterEnqueue(broker, `${kind}:${adName}`), `${kind} adapter enqueue`))
      if (kind === 'list' && who === order[0]) results.idsEnq.push(await measure(() => rawListWithIds(`${tag}-ids-list-${round}`), 'list raw enqueue + ids'))
      // what bench, move and bulk loads ask for: no ids back (EnqueueOptions.ids = false)
      if (kind !== 'bullmq' && who === order[1]) results.noIdsEnq.push(await measure(() => adapterEnqueue(broker, `${kind}:${tag}-noids-${round}`, false), `${kind} adapter enqueue, ids: false`))
    }
    for (const who of order) {
      if (who === 'raw') results.rawCon.push(await measure(() => rawOps.consume(rawName), `${kind} raw consume`))
      else results.adCon.push(await measure(() => adapterConsume(broker, `${kind}:${adName}`), `${kind} adapter consume`))
    }
    if (kind === 'bullmq') {
      for (const name of [rawName, adName]) {
        const q = new Queue(name, {connection: raw})
        await q.obliterate({force: true})
        await q.close()
      }
    }
    await cleanup()
  }
  const raw0 = kind === 'bullmq' ? 'bullmq addBulk / Worker' : 'raw ioredis'
  const line = (what: string, r: {rate: number; cpuUs: number}[], a: {rate: number; cpuUs: number}[]) =>
    `| ${kind} ${what} | ${raw0} | ${median(r.map((x) => x.rate)).toFixed(0)} | ${median(a.map((x) => x.rate)).toFixed(0)} | ${(median(a.map((x) => x.rate)) / median(r.map((x) => x.rate))).toFixed(2)}x | ${median(r.map((x) => x.cpuUs)).toFixed(1)} | ${median(a.map((x) => x.cpuUs)).toFixed(1)} |`
  rows.push(line('enqueue', results.rawEnq, results.adEnq))
  if (kind === 'list') rows.push(line('enqueue', results.idsEnq, results.adEnq).replace('| raw ioredis |', '| raw ioredis + sha1 ids |'))
  if (kind !== 'bullmq') rows.push(line('enqueue (ids: false)', results.rawEnq, results.noIdsEnq))
  rows.push(line('consume + ack', results.rawCon, results.adCon))
  process.stderr.write(`${kind} done\n`)
}
await broker.close()
await raw.srem('queuectl:lists', ...Array.from({length: ROUNDS}, (_, r) => [`${tag}-ad-list-${r}`, `${tag}-noids-${r}`]).flat())
raw.disconnect()

console.log(`${N} messages of ~250 bytes, ${ROUNDS} rounds, medians, ${URL_TEXT}`)
console.log('| | baseline | baseline msg/s | adapter msg/s | adapter / baseline | baseline CPU µs/msg | adapter CPU µs/msg |')
console.log('|---|---|---:|---:|---:|---:|---:|')
for (const row of rows) console.log(row)
