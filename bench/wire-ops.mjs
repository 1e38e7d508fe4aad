// Wire speed of the operations (issue 22): `queue enqueue` (an NDJSON file on stdin), `queue import`
// (a `queue export` file), `queue move` (N messages, queue to queue) and `queue work` (N messages,
// a handler that does nothing, --concurrency 64) against bench/wire/ops.mjs, the raw client doing
// the same (bulk API, pipelining, batched acks). Each side is one fresh Node process timed start to
// exit (both pay Node's start-up and a connect; `queue` also oclif's, ~0.2–0.5 s: the rows use
// --count large enough that it is a small part). Interleaved rounds; untimed set-up makes and fills
// the queues with the raw client, and removes them after.
// Run: npm run build && node bench/wire.mjs --ops [--only redis-list,amqp-classic,nats,pgboss] [--ops-only enqueue,work] [--no-bench]
import {spawn} from 'node:child_process'
import {mkdtempSync, openSync, closeSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const here = new URL('.', import.meta.url).pathname
const bin = join(here, '..', 'bin', 'run.js')
// WIRE_BASE_ROOT=/path/to/another/build: a third side, `base`, that build's `queue` (before/after in the same rounds)
const baseBin = process.env.WIRE_BASE_ROOT ? join(process.env.WIRE_BASE_ROOT, 'bin', 'run.js') : undefined
const yard = join(here, 'wire', 'ops.mjs')
const noop = join(here, 'wire', 'noop-handler.mjs')

/** One process, timed; stdin from a file when given. Rejects on a non-zero exit with its stderr. */
function timed(args, stdinFile) {
  return new Promise((resolve, reject) => {
    const fd = stdinFile ? openSync(stdinFile, 'r') : 'ignore'
    const t0 = performance.now()
    // under /usr/bin/time: its CPU (user + system) too, which the machine's load changes least
    const child = spawn('/usr/bin/time', ['-f', 'wire-cpu %U %S', process.execPath, ...args], {stdio: [fd, 'ignore', 'pipe']})
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (typeof fd === 'number') closeSync(fd)
      const ms = performance.now() - t0
      const m = /wire-cpu ([\d.]+) ([\d.]+)/.exec(err)
      if (code === 0) resolve({ms, cpu: m ? Number(m[1]) + Number(m[2]) : NaN})
      else reject(new Error(`${args.slice(1, 3).join(' ')} exited ${code}: ${err.trim().split('\n').slice(-2).join(' ')}`))
    })
  })
}

const raw = (opts) => timed([yard, JSON.stringify(opts)])

/** NDJSON files of `count` lines: a ~128-byte JSON payload per line, and the same as `queue export` lines. */
function files(dir, count) {
  const pad = 'x'.repeat(100)
  const lines = []
  const exported = []
  for (let i = 0; i < count; i++) {
    const payload = JSON.stringify({n: i, pad})
    lines.push(payload)
    exported.push(JSON.stringify({id: String(i), queue: 'wire', state: 'waiting', attempts: 0, headers: {}, payload}))
  }
  const messages = join(dir, 'messages.ndjson')
  const exports = join(dir, 'export.ndjson')
  writeFileSync(messages, lines.join('\n') + '\n')
  writeFileSync(exports, exported.join('\n') + '\n')
  return {messages, exports}
}

/** The four operations: the `queue` command and the raw yardstick, and what each needs made first. */
function operations(c, f, count) {
  const u = ['--url', c.url]
  return {
    enqueue: {fill: false, queue: (q) => ({args: [bin, 'enqueue', q, ...u], stdin: f.messages}), yard: (q) => ({op: 'enqueue', queue: q, file: f.messages})},
    import: {fill: false, queue: (q) => ({args: [bin, 'import', q, '-f', f.exports, ...u]}), yard: (q) => ({op: 'import', queue: q, file: f.exports})},
    move: {fill: true, queue: (q, to) => ({args: [bin, 'move', q, to, '--limit', String(count), '-y', ...u]}), yard: (q, to) => ({op: 'move', queue: q, to, count})},
    work: {fill: true, queue: (q) => ({args: [bin, 'work', q, '--handler', noop, '--concurrency', '64', '--until-empty', ...u]}), yard: (q) => ({op: 'work', queue: q, count})},
  }
}

let serial = 0

/** One timed run of one side: fresh queues made (and filled) untimed, removed after. */
async function once(c, op, side, f) {
  const base = {broker: c.broker, url: c.rawUrl, noMigrate: true}
  const q = `wt-wire-${op.name}-${process.pid}-${++serial}`
  const to = `${q}-to`
  await raw({...base, op: 'create', queues: [q, to]})
  try {
    if (op.fill) await raw({...base, op: 'enqueue', queue: q, file: f.messages})
    if (side === 'queue' || side === 'base') {
      const {args, stdin} = op.queue(q, to)
      if (side === 'base') args[0] = baseBin
      return {...(await timed(args, stdin)), command: `queue ${args.slice(1).join(' ')}${stdin ? ' < messages.ndjson' : ''}`}
    }
    const opts = {...base, ...op.yard(q, to)}
    return {...(await raw(opts)), command: `node bench/wire/ops.mjs '${JSON.stringify(opts)}'`}
  } finally {
    await raw({...base, op: 'remove', queues: [q, to]})
  }
}

// an even count's median is the mean of its middle two (with 2 rounds the upper one was printed: the better round)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const spread = (xs) => ({median: median(xs), min: Math.min(...xs), max: Math.max(...xs)})

/** Rows shaped like bench/wire.mjs's: throughput = count ÷ the process's wall time. */
export async function opsRows(cases, {rounds, count, ops}) {
  const dir = mkdtempSync(join(tmpdir(), 'wire-ops-'))
  const rows = []
  try {
    const f = files(dir, count)
    for (const c of cases) {
      for (const [name, spec] of Object.entries(operations(c, f, count))) {
        if ((ops && !ops.includes(name)) || (c.ops && !c.ops.includes(name))) continue
        const op = {name, ...spec}
        try {
          const yard = []
          const ours = []
          const base = []
          const cpu = {yard: [], queue: [], base: []}
          let command
          let yardCommand
          for (let round = 0; round < rounds; round++) {
            const sides = baseBin ? ['yard', 'queue', 'base'] : ['yard', 'queue']
            for (const side of sides.map((_, i) => sides[(i + round) % sides.length])) {
              const r = await once(c, op, side, f)
              const rate = Math.round((count * 1000) / r.ms)
              ;({yard, queue: ours, base})[side].push(rate)
              cpu[side].push(Math.round((r.cpu * 1_000_000) / count))
              if (side === 'queue') command = r.command
              else yardCommand = r.command
              console.error(`${c.name} ${name} round ${round + 1} ${side}: ${rate} msg/s (${Math.round(r.ms)} ms), CPU ${cpu[side].at(-1)} ms / 1k msgs`)
            }
          }
          rows.push({c, op: `${name} ${count}`, yard: {throughput: median(yard), cpuK: median(cpu.yard)}, ours: {throughput: median(ours), cpuK: median(cpu.queue)}, ratio: spread(ours.map((o, i) => o / yard[i])), command, yardCommand})
          if (baseBin) console.error(`${c.name} ${name}: ratio this build ${median(ours.map((o, i) => o / yard[i])).toFixed(2)}x, base ${median(base.map((o, i) => o / yard[i])).toFixed(2)}x; CPU ms / 1k yard ${median(cpu.yard)} / this ${median(cpu.queue)} / base ${median(cpu.base)}`)
        } catch (error) {
          console.error(`${c.name} ${name}: ${error.message}`)
          rows.push({c, op: `${name} failed`, error: error.message.split('\n')[0]})
        }
      }
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return rows
}

export const OPS_CASES = (urls) => [
  {name: 'redis-list', broker: 'redis', label: 'Redis list', url: urls.redis, rawUrl: urls.redis},
  {name: 'amqp-classic', broker: 'amqp', label: 'RabbitMQ classic', url: urls.amqp, rawUrl: urls.amqp},
  {name: 'nats', broker: 'nats', label: 'NATS JetStream', url: urls.nats, rawUrl: urls.nats},
  {name: 'pgboss', broker: 'pgboss', label: 'PostgreSQL pg-boss 10', url: `${urls.pg}?flavor=pgboss`, rawUrl: urls.pg},
  {name: 'amqp-quorum', broker: 'amqp', label: 'RabbitMQ quorum', url: `${urls.amqp}?queueType=quorum`, rawUrl: `${urls.amqp}?queueType=quorum`},
  // a stream keeps what is consumed and `queue` reads it from the next offset: move takes 0, work --until-empty never ends
  {name: 'amqp-stream', ops: ['enqueue', 'import'], broker: 'amqp', label: 'RabbitMQ stream', url: `${urls.amqp}?queueType=stream`, rawUrl: `${urls.amqp}?queueType=stream`},
  {name: 'redis-stream', broker: 'redis-stream', label: 'Redis stream', url: `${urls.redis}?flavor=stream`, rawUrl: urls.redis},
  {name: 'bullmq', broker: 'bullmq', label: 'Redis BullMQ', url: `${urls.redis}?flavor=bullmq`, rawUrl: urls.redis},
  {name: 'bull', broker: 'bull', label: 'Redis Bull', url: `${urls.redis}?flavor=bull`, rawUrl: urls.redis},
  {name: 'bee', broker: 'bee', label: 'Redis Bee-Queue', url: `${urls.redis}?flavor=bee`, rawUrl: urls.redis},
  {name: 'graphile', broker: 'graphile', label: 'PostgreSQL graphile-worker 0.17', url: `${urls.pg}?flavor=graphile`, rawUrl: urls.pg},
  // the fauxqs emulator wire.mjs starts (its endpoint); the yardstick talks to the endpoint
  ...(urls.sqs ? [{name: 'sqs', broker: 'sqs', label: 'SQS (fauxqs emulator)', url: `sqs://test:test@${new URL(urls.sqs).host}?region=us-east-1`, rawUrl: urls.sqs}] : []),
  // a consumer group of this run's own (?group=), deleted with each topic
  {name: 'kafka', broker: 'kafka', label: 'Kafka consumer group', url: `${urls.kafka}?group=wt-wire-ops-${process.pid}`, rawUrl: `${urls.kafka}?group=wt-wire-ops-${process.pid}`},
]
