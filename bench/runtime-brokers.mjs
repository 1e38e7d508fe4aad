#!/usr/bin/env node
// The worker runtime's overhead on real brokers: `queue bench`'s code path (producer → adapter →
// worker runtime → latency/sequence recording) against a bare loop on the same adapter doing the
// same work (same producer, broker.consume with the same prefetch, record + ack in the lease
// callback, no runtime), alternating rounds in one run. The adapters' own overhead against the raw
// SDKs is measured by bench/redis.ts, bench/amqp.ts and bench/sqs.ts.
//
//   npm run build && node bench/runtime-brokers.mjs [--rounds 3] [--only redis-list,bullmq,amqp,sqs] [--scale 1]
//
// --scale multiplies each broker's message count (runs of a few seconds keep JIT warm-up noise down).
import {spawn} from 'node:child_process'
import {parseArgs} from 'node:util'

const {values} = parseArgs({options: {rounds: {type: 'string', default: '3'}, only: {type: 'string'}, scale: {type: 'string', default: '1'}}})
const rounds = Number(values.rounds)
const scale = Number(values.scale)
const {createBroker} = await import('../dist/adapters/registry.js')
const {planBench} = await import('../dist/loadgen/plan.js')
const {runBench} = await import('../dist/loadgen/run.js')
const {LatencyRecorder} = await import('../dist/loadgen/histogram.js')
const {PayloadFactory, clock} = await import('../dist/loadgen/payload.js')
const {SequenceTracker} = await import('../dist/loadgen/tracker.js')

const PREFETCH = 64
const BATCH = 100
const WINDOW = 1000

async function startFauxqs() {
  const code = `import {buildApp} from 'fauxqs'; const app = buildApp({logger: false}); const a = await app.listen({port: 0, host: '127.0.0.1'}); console.log(a)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'inherit']})
  const endpoint = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(d.toString().trim())))
  return {url: `sqs://bench:bench@${new URL(endpoint).host}?region=us-east-1`, stop: () => child.kill()}
}

/** The same closed loop as runBench, consumed by broker.consume directly (no runtime). */
async function bareLoop(broker, queue, count) {
  const factory = new PayloadFactory(128)
  const latency = new LatencyRecorder()
  const tracker = new SequenceTracker()
  let processed = 0
  let sent = 0
  let last = 0
  let wake
  const sub = await broker.consume(
    queue,
    (lease) => {
      const p = lease.message.payload
      const now = clock()
      latency.record(Math.round((now - p.readDoubleLE(0)) * 1000))
      tracker.mark(p.readUInt16LE(12), p.readUInt32LE(8))
      processed++
      last = now
      void lease.ack()
      // same refill policy as runBench: wake the producer when half the window is free
      if (wake && sent - processed <= WINDOW / 2) wake()
    },
    {prefetch: PREFETCH},
  )
  const start = clock()
  while (sent < count) {
    if (sent - processed >= WINDOW) {
      await new Promise((resolve) => {
        wake = resolve
        setTimeout(resolve, 100)
      })
      wake = undefined
      continue
    }
    const n = Math.min(BATCH, count - sent, WINDOW - (sent - processed))
    const t = clock()
    const batch = Array.from({length: n}, (_, k) => ({payload: factory.make(t, sent + k, 0)}))
    await broker.enqueue(queue, batch)
    sent += n
  }
  while (tracker.unique < count && clock() - start < 600_000) await new Promise((r) => setTimeout(r, 5))
  await sub.close()
  const h = latency.flush()
  return {throughput: Math.round((tracker.unique * 1000) / (last - start)), lost: count - tracker.unique, p99ms: h.getValueAtPercentile(99) / 1000}
}

async function runtimeLoop(broker, queue, count) {
  const plan = planBench({count, producers: 1, consumers: 1, concurrency: PREFETCH, batch: BATCH, size: '128B', workMs: 0, drain: '60s', inflight: WINDOW})
  const o = await runBench({broker, queue, plan})
  return {throughput: Math.round((o.tracker.unique * 1000) / (o.lastDoneAt - o.startedAt)), lost: o.sent - o.tracker.unique, p99ms: o.histogram.getValueAtPercentile(99) / 1000}
}

const targets = [
  {name: 'redis-list', url: 'redis://127.0.0.1:6379', queue: 'list:qb-overhead', count: 20_000},
  {name: 'bullmq', url: 'redis://127.0.0.1:6379', queue: 'bullmq:qb-overhead', count: 5_000},
  {name: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'qb-overhead', count: 10_000},
  {name: 'sqs', url: 'fauxqs', queue: 'qb-overhead', count: 3_000},
]
  .filter((t) => !values.only || values.only.split(',').includes(t.name))
  .map((t) => ({...t, count: Math.round(t.count * scale)}))

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const target of targets) {
  const emulator = target.url === 'fauxqs' ? await startFauxqs() : undefined
  const broker = await createBroker(emulator?.url ?? target.url, {timeoutMs: 5000})
  await broker.connect()
  const bare = []
  const rt = []
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn, into] of r % 2 === 0 ? [['bare', bareLoop, bare], ['runtime', runtimeLoop, rt]] : [['runtime', runtimeLoop, rt], ['bare', bareLoop, bare]]) {
        const queue = `${target.queue}-${name}-${r}`
        await broker.createQueue?.(queue)
        const res = await fn(broker, queue, target.count)
        await broker.deleteQueue?.(queue).catch(() => {})
        into.push(res.throughput)
        console.log(JSON.stringify({broker: target.name, round: r + 1, loop: name, count: target.count, ...res}))
      }
    }
    console.log(JSON.stringify({broker: target.name, summary: true, bareMedian: median(bare), runtimeMedian: median(rt), ratio: Number((median(rt) / median(bare)).toFixed(3))}))
  } finally {
    await broker.close()
    emulator?.stop()
  }
}
