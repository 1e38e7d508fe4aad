#!/usr/bin/env node
// The runtime's overhead on the embedded broker, side by side in one process: a bare array-and-
// promise loop (each message handed to an async no-op handler, its latency recorded in an HDR
// histogram) against `queue bench`'s own code path (memory broker → worker runtime → the same
// recording), alternating rounds so machine noise hits both.
//
//   npm run build && node bench/runtime.mjs [--seconds 3] [--rounds 3] [--open-rate 250000] [--warmup 1s]
//
// With --open-rate, the open loop runs once without and once with --warmup (latency not recorded
// for the messages of the first --warmup: JIT warm-up).
//
// Prints one JSON line per measurement and a summary; results are recorded in BENCHMARKS.md.
// cpuBoundRate = 1e6 / (process CPU µs per message): the rate if the loop had a core to itself.
import {parseArgs} from 'node:util'
import * as hdr from 'hdr-histogram-js'

const {values} = parseArgs({
  options: {
    seconds: {type: 'string', default: '3'},
    rounds: {type: 'string', default: '3'},
    'open-rate': {type: 'string'},
    window: {type: 'string', default: '1000'},
    warmup: {type: 'string', default: '1s'},
  },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const window = Number(values.window)

const {createBroker} = await import('../dist/adapters/registry.js')
const {planBench} = await import('../dist/loadgen/plan.js')
const {runBench} = await import('../dist/loadgen/run.js')
const {buildResult} = await import('../dist/loadgen/result.js')

const origin = performance.timeOrigin
const clock = () => origin + performance.now()
const newHist = () => hdr.build({bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3})

/** The limit: an array as the queue, a promise per message, an async no-op handler, HDR recording. */
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function bareLoop(ms) {
  const cpu0 = cpuMs()
  const hist = newHist()
  const handler = async () => {}
  let processed = 0
  const start = clock()
  const end = start + ms
  while (clock() < end) {
    const t = clock()
    const queue = new Array(window)
    for (let i = 0; i < window; i++) queue[i] = {sentAt: t, seq: processed + i}
    for (let i = 0; i < window; i++) {
      const m = queue[i]
      await handler(m)
      const us = Math.round((clock() - m.sentAt) * 1000)
      hist.recordValue(us > 0 ? us : 1)
      processed++
    }
  }
  const elapsed = clock() - start
  const cpuUsPerMsg = ((cpuMs() - cpu0) * 1000) / processed
  return {name: 'bare loop', throughput: Math.round((processed * 1000) / elapsed), processed, cpuUsPerMsg: Number(cpuUsPerMsg.toFixed(3)), cpuBoundRate: Math.round(1e6 / cpuUsPerMsg), p99ms: hist.getValueAtPercentile(99) / 1000}
}

let n = 0
async function runtime(ms, rate, warmup) {
  const broker = await createBroker(`memory://bench-runtime-${n++}`, {timeoutMs: 1000})
  await broker.connect()
  const queue = 'bench'
  await broker.createQueue(queue)
  const plan = planBench({
    duration: `${ms}ms`, rate: rate ? `${rate}/s` : undefined, producers: 1, consumers: 1, concurrency: 64,
    batch: 100, size: '128B', workMs: 0, drain: '10s', inflight: window, warmup,
  })
  const cpu0 = cpuMs()
  const outcome = await runBench({broker, queue, plan})
  const cpuUsPerMsg = ((cpuMs() - cpu0) * 1000) / Math.max(1, outcome.tracker.unique)
  const result = buildResult({runId: 'x', broker: 'memory://', transport: 'memory', queue, agents: 1, plan}, outcome, outcome.sent, outcome.sendFailed, false)
  await broker.close()
  return {
    name: rate ? `queue bench open loop ${rate}/s${warmup ? ` after ${warmup} warm-up` : ''}` : 'queue bench (runtime)',
    throughput: result.throughput, processed: result.processed, lost: result.lost, duplicates: result.duplicates,
    cpuUsPerMsg: Number(cpuUsPerMsg.toFixed(3)), cpuBoundRate: Math.round(1e6 / cpuUsPerMsg),
    p50ms: result.latency.p50, p99ms: result.latency.p99, p999ms: result.latency.p999, maxms: result.latency.max,
  }
}

const bare = []
const rt = []
const bareCpu = []
const rtCpu = []
for (let r = 0; r < rounds; r++) {
  const b = await bareLoop(seconds * 1000)
  const q = await runtime(seconds * 1000)
  bare.push(b.throughput)
  rt.push(q.throughput)
  bareCpu.push(b.cpuBoundRate)
  rtCpu.push(q.cpuBoundRate)
  console.log(JSON.stringify({round: r + 1, ...b}))
  console.log(JSON.stringify({round: r + 1, ...q}))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  JSON.stringify({
    summary: true, node: process.version, seconds, rounds, window,
    bareMedian: median(bare), runtimeMedian: median(rt), ratio: Number((median(rt) / median(bare)).toFixed(3)),
    // CPU time per message is much less sensitive to other processes on a shared machine
    bareCpuBoundMedian: median(bareCpu), runtimeCpuBoundMedian: median(rtCpu), cpuRatio: Number((median(rtCpu) / median(bareCpu)).toFixed(3)),
  }),
)
if (values['open-rate']) {
  console.log(JSON.stringify(await runtime(seconds * 1000, Number(values['open-rate']))))
  console.log(JSON.stringify(await runtime(seconds * 1000, Number(values['open-rate']), values.warmup)))
}
