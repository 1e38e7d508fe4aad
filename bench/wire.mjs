// Wire speed (issue 22): every raw-client yardstick in bench/wire/ and `queue bench` with the same
// shape, interleaved on this machine's brokers (rounds alternate which goes first), medians printed
// as one markdown table: broker × operation × yardstick × queue × ratio (the median of per-round ratios).
// Run: npm run build && node bench/wire.mjs [--only amqp-classic,amqp-quorum] [--rounds 3] [--count 20000] [--seconds 2] [--open] [--ops]
// --count: the operations' N, and the least a bench row sends (--seconds raises it; --seconds 0: exactly --count).
// --open: also an open-loop run of both at half the yardstick's closed-loop rate (p99 vs p50).
// --ops: also `queue enqueue`, `import`, `move` and `work` against raw clients (bench/wire-ops.mjs) on
// Redis list and stream, BullMQ, Bull, Bee-Queue, RabbitMQ classic/quorum/stream, NATS, pg-boss, graphile-worker, SQS and
// Kafka (--ops-only enqueue,move to pick; --no-bench: only those).
import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)
const here = new URL('.', import.meta.url).pathname
const bin = join(here, '..', 'bin', 'run.js')
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : process.argv[i + 1]
}
const ROUNDS = Number(arg('rounds', 3))
const COUNT = Number(arg('count', 20_000))
// a bench row runs at least this long on the yardstick's side: its count is raised to the yardstick's
// rate in an untimed first run × SECONDS (rounded up to 10,000), so a fast broker is not measured
// over a fraction of a second of JIT warm-up and group joins (memory:// and Kafka did 20,000 in 0.05–0.3 s)
const SECONDS = Number(arg('seconds', 2))
const OPEN = process.argv.includes('--open')
const ONLY = arg('only')?.split(',')
const OPS = process.argv.includes('--ops')
const OPS_ONLY = arg('ops-only')?.split(',')
const BENCH = !process.argv.includes('--no-bench')
const AMQP = process.env.QUEUECTL_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/'
const NATS = process.env.QUEUECTL_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222'
const KAFKA = process.env.QUEUECTL_BENCH_KAFKA_URL ?? 'kafka://127.0.0.1:9092'
const REDIS = process.env.QUEUECTL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
// a database of its own on the shared server: pg-boss's schema is installed there by its first start()
const PG = process.env.QUEUECTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/qc_wire'

// `queue bench` defaults: closed loop, inflight 1000, batch 100, concurrency 64 (prefetch 64), 128 B
const SHAPE = {count: COUNT, size: 128, prefetch: 64, inflight: 1000, batch: 100}

/** name, what `queue bench` gets (--url + flags), what the yardstick gets (its script + options). */
const CASES = [
  {name: 'memory', broker: 'memory://', url: 'memory://wire', flags: [], yard: 'memory.mjs', label: 'in-process probe: the loop over a bare array', opts: {}},
  {name: 'amqp-classic', broker: 'RabbitMQ classic', url: AMQP, flags: ['--persistent', '--confirms'], yard: 'amqp.mjs', label: 'amqplib, noDelay, confirms, multiple acks', opts: {url: AMQP, queueType: 'classic'}},
  {name: 'amqp-quorum', broker: 'RabbitMQ quorum', url: `${AMQP}?queueType=quorum`, flags: ['--persistent', '--confirms'], yard: 'amqp.mjs', label: 'amqplib, noDelay, confirms, multiple acks', opts: {url: AMQP, queueType: 'quorum'}},
  {name: 'amqp-stream', broker: 'RabbitMQ stream', url: `${AMQP}?queueType=stream`, flags: ['--persistent', '--confirms'], yard: 'amqp.mjs', label: 'amqplib, noDelay, confirms, multiple acks', opts: {url: AMQP, queueType: 'stream'}},
  {name: 'redis-list', broker: 'Redis list', url: REDIS, flags: [], yard: 'redis-list.mjs', label: 'ioredis LPUSH batch + Lua LMOVE fetch, pipelined acks', opts: {url: REDIS}},
  {name: 'redis-stream', broker: 'Redis stream', url: `${REDIS}?flavor=stream`, flags: [], yard: 'redis-stream.mjs', label: 'ioredis pipelined XADD + XREADGROUP BLOCK, one XACK a turn', opts: {url: REDIS}},
  {name: 'bullmq', broker: 'Redis BullMQ', url: `${REDIS}?flavor=bullmq`, flags: [], yard: 'bullmq.mjs', label: 'bullmq Queue.addBulk + Worker', opts: {url: REDIS}},
  {name: 'bull', broker: 'Redis Bull', url: `${REDIS}?flavor=bull`, flags: [], yard: 'bull.mjs', label: 'bull Queue.addBulk + process(64)', opts: {url: REDIS}},
  {name: 'bee', broker: 'Redis Bee-Queue', url: `${REDIS}?flavor=bee`, flags: [], yard: 'bee.mjs', label: 'bee-queue saveAll + process(64)', opts: {url: REDIS}},
  {name: 'nats', broker: 'NATS JetStream', url: NATS, flags: [], yard: 'nats.mjs', label: '@nats-io/jetstream, publishes in flight, consume() callback', opts: {url: NATS}},
  {name: 'pgboss', broker: 'PostgreSQL pg-boss 10', url: `${PG}?flavor=pgboss`, flags: [], yard: 'pgboss.mjs', label: 'pg-boss insert() + fetch()/complete()', opts: {url: PG}, setup: pgSetup},
  {name: 'graphile', broker: 'PostgreSQL graphile-worker 0.17', url: `${PG}?flavor=graphile`, flags: [], yard: 'graphile.mjs', label: 'graphile-worker addJobs + run() (localQueue 65, completeJobBatchDelay 0)', opts: {url: PG}, setup: pgSetup},
  {name: 'sqs', broker: 'SQS (fauxqs emulator)', url: 'sqs://test:test@SQS?region=us-east-1', flags: [], yard: 'sqs.mjs', label: '@aws-sdk/client-sqs batches of 10, 7 long polls, DeleteMessageBatch', opts: {}, setup: sqsSetup},
  {name: 'kafka', broker: 'Kafka consumer group', url: KAFKA, flags: [], yard: 'kafka.mjs', label: '@platformatic/kafka, idempotent produce per batch, autocommit 100 ms', opts: {url: KAFKA}},
]

/** The database for pg-boss and graphile-worker, with their schemas (installed by a yardstick run of one message). */
async function pgSetup(c) {
  const {default: pg} = await import('pg')
  const url = new URL(PG)
  const db = url.pathname.slice(1)
  const admin = new pg.Client({connectionString: `${url.protocol}//${url.username}@${url.host}/postgres`})
  await admin.connect()
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount > 0
  if (!exists) await admin.query(`CREATE DATABASE "${db}"`)
  await admin.end()
  pgUsed = true
  await yardstick(c, {count: 1})
}

/** Drops the bench's own database at the end (no test database left behind). */
async function pgTeardown() {
  if (!pgUsed) return
  const {default: pg} = await import('pg')
  const url = new URL(PG)
  const admin = new pg.Client({connectionString: `${url.protocol}//${url.username}@${url.host}/postgres`})
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`)
  await admin.end()
}
let pgUsed = false

/** The fauxqs SQS emulator on a free loopback port, in a child process (as test/setup/sqs.ts). */
let emulator
async function sqsSetup(c) {
  if (!emulator) {
    const {spawn} = await import('node:child_process')
    const code = "import {buildApp} from 'fauxqs'; const app = buildApp({logger: false, host: 'localhost'}); process.stdout.write(await app.listen({port: 0, host: '127.0.0.1'}) + '\\n')"
    emulator = spawn(process.execPath, ['--input-type=module', '-e', code], {cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'inherit']})
    const endpoint = await new Promise((resolve, reject) => {
      emulator.stdout.setEncoding('utf8').once('data', (d) => resolve(new URL(d.trim()).origin))
      emulator.once('exit', (code) => reject(new Error(`the fauxqs emulator exited (code ${code})`)))
      setTimeout(() => reject(new Error('the fauxqs emulator did not start within 30 s')), 30_000).unref()
    })
    emulator.endpoint = endpoint
  }
  c.url = `sqs://test:test@${new URL(emulator.endpoint).host}?region=us-east-1`
  c.opts = {endpoint: emulator.endpoint}
}

/** Runs node with args under /usr/bin/time: its stdout, and its CPU seconds (user + system; start-up included). */
async function timedNode(args) {
  const {stdout, stderr} = await run('/usr/bin/time', ['-f', 'wire-cpu %U %S', process.execPath, ...args], {timeout: 600_000, maxBuffer: 64 * 1024 * 1024})
  const m = /wire-cpu ([\d.]+) ([\d.]+)/.exec(stderr)
  return {stdout, cpu: m ? Number(m[1]) + Number(m[2]) : NaN}
}
/** CPU ms per 1,000 messages: what the load on this machine changes least. */
const cpuPerK = (cpu, count) => Math.round((cpu * 1_000_000) / count)

async function yardstick(c, extra = {}) {
  const opts = {...SHAPE, ...c.opts, ...extra}
  const {stdout, cpu} = await timedNode([join(here, 'wire', c.yard), JSON.stringify(opts)])
  return {...JSON.parse(stdout.trim().split('\n').at(-1)), cpuK: cpuPerK(cpu, opts.count)}
}

async function queueBench(c, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'wire-'))
  try {
    const out = join(dir, 'r.json')
    const flags = ['--count', String(c.count ?? SHAPE.count), '--size', `${SHAPE.size}B`, '--prefetch', String(SHAPE.prefetch), '--concurrency', String(SHAPE.prefetch), '--inflight', String(SHAPE.inflight), '--batch', String(SHAPE.batch), ...c.flags, ...extra]
    const {cpu} = await timedNode([bin, 'bench', '--url', c.url, ...flags, '--out', out])
    const r = JSON.parse(readFileSync(out, 'utf8'))
    if (r.lost || r.errors) throw new Error(`${c.name}: queue bench lost ${r.lost}, errors ${r.errors}: ${r.lastError ?? ''}`)
    return {throughput: r.throughput, p50: r.latency.p50, p99: r.latency.p99, cpuK: cpuPerK(cpu, c.count ?? SHAPE.count), command: `queue bench --url ${c.url} ${flags.join(' ')}`}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

// an even count's median is the mean of its middle two (with 2 rounds the upper one was printed: the better round)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const spread = (xs) => ({median: median(xs), min: Math.min(...xs), max: Math.max(...xs)})
const summary = (rs) => ({throughput: median(rs.map((r) => r.throughput)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuK: median(rs.map((r) => r.cpuK))})

/** Runs both sides ROUNDS times, alternating who goes first. */
async function interleaved(c, yardExtra, queueExtra) {
  const yard = []
  const ours = []
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['yard', 'queue'] : ['queue', 'yard']
    for (const who of order) {
      if (who === 'yard') yard.push(await yardstick(c, yardExtra))
      else ours.push(await queueBench(c, queueExtra))
      const r = (who === 'yard' ? yard : ours).at(-1)
      console.error(`${c.name} round ${round + 1} ${who}: ${r.throughput} msg/s p50 ${r.p50} ms p99 ${r.p99} ms, CPU ${r.cpuK} ms / 1k msgs`)
    }
  }
  // the load drifts between rounds: compare within a round, then take the median of the ratios
  const ratios = (k) => yard.map((y, i) => ours[i][k] / y[k])
  return {yard: summary(yard), ours: summary(ours), ratio: spread(ratios('throughput')), p50Ratio: spread(ratios('p50')), command: ours[0].command, yardOpts: {...SHAPE, ...c.opts, ...yardExtra}}
}

const rows = []
const started = new Date().toISOString()
const loadBefore = loadavg().map((x) => x.toFixed(1)).join(' ')
for (const c of CASES) {
  if (!BENCH || (ONLY && !ONLY.includes(c.name))) continue
  try {
    await c.setup?.(c)
    if (SECONDS > 0) {
      // the untimed calibration run also warms the broker (a new topic, a group's first join)
      const probe = await yardstick(c)
      c.count = Math.max(COUNT, Math.ceil((probe.throughput * SECONDS) / 10_000) * 10_000)
      c.opts = {...c.opts, count: c.count}
      console.error(`${c.name}: calibration ${probe.throughput} msg/s → ${c.count} messages a run (--seconds ${SECONDS})`)
    }
    const closed = await interleaved(c, {}, [])
    rows.push({c, op: `bench closed loop ${c.count ?? COUNT}`, ...closed})
    if (OPEN) {
      const rate = Math.max(1, Math.round(closed.yard.throughput / 2))
      const open = await interleaved(c, {rate}, ['--rate', `${rate}/s`])
      rows.push({c, op: `bench open loop ${c.count ?? COUNT} at ${rate}/s`, ...open})
    }
  } catch (error) {
    console.error(`${c.name}: ${error.message}`)
    rows.push({c, op: 'failed', error: error.message.split('\n')[0]})
  }
}
if (OPS) {
  const {OPS_CASES, opsRows} = await import('./wire-ops.mjs')
  if (!ONLY || ONLY.includes('sqs')) await sqsSetup(CASES.find((c) => c.name === 'sqs'))
  const cases = OPS_CASES({redis: REDIS, amqp: AMQP, nats: NATS, pg: PG, kafka: KAFKA, sqs: emulator?.endpoint}).filter((c) => !ONLY || ONLY.includes(c.name))
  // the database and the libraries' schemas, installed by a yardstick run of one message
  for (const name of ['pgboss', 'graphile']) if (cases.some((c) => c.name === name)) await pgSetup(CASES.find((c) => c.name === name))
  rows.push(...(await opsRows(cases, {rounds: ROUNDS, count: COUNT, ops: OPS_ONLY})).map((r) => ({...r, c: {...r.c, broker: r.c.label, label: 'raw client (bench/wire/ops.mjs)'}})))
}
emulator?.kill('SIGTERM')
await pgTeardown().catch((error) => console.error(`dropping ${PG}: ${error.message}`))
const x = (r) => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
console.log(`${started}, Node ${process.version}, ${ROUNDS} rounds interleaved, medians; load average before ${loadBefore}, after ${loadavg().map((v) => v.toFixed(1)).join(' ')}`)
console.log('')
console.log('| broker | operation | yardstick | yardstick msg/s | queue msg/s | ratio (median of rounds, range) | yardstick p50 / p99 ms | queue p50 / p99 ms | p50 ratio | CPU ms / 1k msgs, yardstick / queue |')
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|')
for (const r of rows) {
  if (r.error) {
    console.log(`| ${r.c.broker} | ${r.op} | ${r.c.label} | | | | | | ${r.error} | |`)
    continue
  }
  const lat = r.p50Ratio ? `${r.yard.p50} / ${r.yard.p99} | ${r.ours.p50} / ${r.ours.p99} | ${x(r.p50Ratio)}` : '| |'
  console.log(`| ${r.c.broker} | ${r.op} | ${r.c.label} | ${r.yard.throughput} | ${r.ours.throughput} | ${x(r.ratio)} | ${lat} | ${r.yard.cpuK} / ${r.ours.cpuK} |`)
}
console.log('')
for (const r of rows) if (r.command) console.log(`- ${r.c.name} ${r.op}: \`${r.command}\` vs \`${r.yardCommand ?? `node bench/wire/${r.c.yard} '${JSON.stringify(r.yardOpts)}'`}\``)
