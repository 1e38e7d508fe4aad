#!/usr/bin/env node
// CPU a message of `queue bench`'s path without start-up: in one process, the broker as commands
// open it (createBroker + boundedBroker, or the guard only for memory://) and runBench's closed
// loop (128 B, prefetch and concurrency 64, window 1000, batches of 100), timed with
// process.cpuUsage around the run only (and msg/s over the same span, which load moves). On a shared machine this moves far less than wall time.
//   npm run build && node bench/wire-cpu.mjs [URL=amqp://guest:guest@127.0.0.1:5672/] [COUNT=40000] [ROOT=this checkout]
// ROOT: another built checkout (main's build, say) measured the same way, for before/after.
import {fileURLToPath} from 'node:url'

const url = process.argv[2] ?? 'amqp://guest:guest@127.0.0.1:5672/'
const count = Number(process.argv[3] ?? 40000)
const root = process.argv[4] ?? fileURLToPath(new URL('..', import.meta.url))
const {createBroker} = await import(`${root}/dist/adapters/registry.js`)
const {boundedBroker} = await import(`${root}/dist/broker/kit/deadline.js`)
const {planBench} = await import(`${root}/dist/loadgen/plan.js`)
const {runBench} = await import(`${root}/dist/loadgen/run.js`)

const inner = await createBroker(url, {timeoutMs: 5000})
await inner.connect()
const broker = (await inner.capabilitiesOf()).inProcess ? inner : boundedBroker(inner, 5000)
const queue = `wire-cpu-${process.pid}`
await broker.createQueue(queue)
const persistent = !url.startsWith('memory:')
const plan = planBench({count, size: '128B', producers: 1, consumers: 1, concurrency: 64, prefetch: 64, inflight: 1000, batch: 100, workMs: 0, drain: '30s', persistent, confirms: persistent})
const before = process.cpuUsage()
const started = performance.now()
const out = await runBench({broker, queue, plan, jsonPayloads: (await broker.capabilitiesOf()).payload === 'json'})
const used = process.cpuUsage(before)
const wallMs = performance.now() - started
await broker.deleteQueue(queue).catch(() => {})
await broker.close()
if (out.processed < count) throw new Error(`processed ${out.processed} of ${count}: ${out.lastError ?? ""}`)
console.log(JSON.stringify({url, count, cpuMsPer1k: Math.round(((used.user + used.system) / count) * 10) / 10, userMsPer1k: Math.round((used.user / count) * 10) / 10, msgPerSec: Math.round(count / (wallMs / 1000))}))
