#!/usr/bin/env node
// Memory of a long `queue bench` run on the embedded broker through the real runtime: samples
// heap and RSS every --every, and compares the first minute with the last. A leak shows as growth;
// flat means the broker, runtime, histogram and sequence tracker all stay bounded.
//
//   npm run build && node --expose-gc bench/memory.mjs [--minutes 10] [--every 10s] [--rate 100000]
//
// Without --rate it is a closed loop (as fast as it goes, bounded window).
import {parseArgs} from 'node:util'

const {values} = parseArgs({options: {minutes: {type: 'string', default: '10'}, every: {type: 'string', default: '10'}, rate: {type: 'string'}}})
const minutes = Number(values.minutes)
const everyMs = Number(String(values.every).replace(/s$/, '')) * 1000

const {createBroker} = await import('../dist/adapters/registry.js')
const {planBench} = await import('../dist/loadgen/plan.js')
const {runBench} = await import('../dist/loadgen/run.js')

const broker = await createBroker('memory://memory-bench', {timeoutMs: 1000})
await broker.connect()
await broker.createQueue('mem')
const plan = planBench({
  duration: `${minutes}m`, rate: values.rate ? `${values.rate}/s` : undefined, producers: 1, consumers: 1,
  concurrency: 64, batch: 100, size: '128B', workMs: 0, drain: '10s',
})
const samples = []
const mb = (n) => Math.round((n / 1024 / 1024) * 10) / 10
let processed = 0
const started = Date.now()
const timer = setInterval(() => {
  globalThis.gc?.()
  const m = process.memoryUsage()
  const s = {tMin: Math.round((Date.now() - started) / 600) / 100, processed, heapUsedMB: mb(m.heapUsed), rssMB: mb(m.rss), externalMB: mb(m.external + m.arrayBuffers)}
  samples.push(s)
  console.log(JSON.stringify(s))
}, everyMs)
const outcome = await runBench({broker, queue: 'mem', plan, onProgress: (p) => (processed = p.processed)})
clearInterval(timer)
await broker.close()
const window = (from, to) => samples.filter((s) => s.tMin >= from && s.tMin < to)
const avg = (xs, k) => Math.round((xs.reduce((a, s) => a + s[k], 0) / Math.max(1, xs.length)) * 10) / 10
const first = window(0, 1.01)
const last = window(minutes - 1, minutes + 1)
console.log(
  JSON.stringify({
    summary: true, node: process.version, minutes, rate: values.rate ?? 'closed loop', processed: outcome.tracker.unique,
    lost: outcome.sent - outcome.tracker.unique, duplicates: outcome.tracker.duplicates,
    firstMinute: {heapUsedMB: avg(first, 'heapUsedMB'), rssMB: avg(first, 'rssMB')},
    lastMinute: {heapUsedMB: avg(last, 'heapUsedMB'), rssMB: avg(last, 'rssMB')},
    maxHeapUsedMB: Math.max(...samples.map((s) => s.heapUsedMB)), maxRssMB: Math.max(...samples.map((s) => s.rssMB)),
  }),
)
