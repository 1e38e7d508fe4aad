// `queue move` throughput (src/services/ops: consume → confirmed enqueue → ack, in batches) against a
// hand-written loop over the same adapter calls with the same batch size, side by side in one run;
// rounds alternate which goes first; medians. Also export (peek → NDJSON) and import (NDJSON →
// enqueue) rates. Aim: move within 15% of the hand-written loop.
// Run: npm run build && npx tsx bench/ops.ts [messages=10000] [rounds=3] [url …]
// Default URLs: redis://127.0.0.1:6379/13 (list) and amqp://guest:guest@127.0.0.1:5672/.
import {Readable} from 'node:stream'
import type {Broker, Lease} from '../src/broker/contract.js'

// the built code, as users run it (a computed path: dist/ has no type declarations)
const dist = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href)
const {createBroker} = (await dist('adapters/registry.js')) as typeof import('../src/adapters/registry.js')
const {moveMessages} = (await dist('services/ops/move.js')) as typeof import('../src/services/ops/move.js')
const {exportMessages} = (await dist('services/ops/export.js')) as typeof import('../src/services/ops/export.js')
const {importMessages} = (await dist('services/ops/import.js')) as typeof import('../src/services/ops/import.js')

const N = Number(process.argv[2] ?? 10_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const URLS = process.argv.length > 4 ? process.argv.slice(4) : ['redis://127.0.0.1:6379/13', 'amqp://guest:guest@127.0.0.1:5672/']
const BATCH = 100
const IDLE_MS = 500
const payloads = Array.from({length: N}, (_, i) => ({payload: JSON.stringify({seq: i, to: 'ada@example.com', body: 'x'.repeat(200)}), name: 'email'}))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** The baseline: consume with the same prefetch, enqueue each batch, ack it; stop when all arrived. */
async function handLoop(b: Broker, from: string, to: string): Promise<void> {
  let pending: Lease[] = []
  let done = 0
  let flushing = Promise.resolve()
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  const flush = () => {
    const batch = pending
    pending = []
    flushing = flushing.then(async () => {
      await b.enqueue(to, batch.map((l) => ({payload: l.message.payload, name: l.message.name, headers: l.message.headers, contentType: l.message.contentType})))
      await Promise.all(batch.map((l) => l.ack()))
      done += batch.length
      if (done >= N) finish()
    })
  }
  const sub = await b.consume(from, (lease) => {
    pending.push(lease)
    if (pending.length >= BATCH || done + pending.length >= N) flush()
  }, {prefetch: BATCH})
  await finished
  await sub.close()
}

async function queues(b: Broker, tag: string): Promise<[string, string]> {
  const kind = b.transport === 'redis' ? 'list:' : ''
  const names: [string, string] = [`${kind}qctl-bench-ops-${process.pid}-${tag}-a`, `${kind}qctl-bench-ops-${process.pid}-${tag}-b`]
  for (const q of names) await b.createQueue!(q)
  return names
}

for (const url of URLS) {
  const b = await createBroker(url, {timeoutMs: 10_000})
  await b.connect()
  const rates = {hand: [] as number[], move: [] as number[], export: [] as number[], import: [] as number[]}
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['hand', 'move'] as const) : (['move', 'hand'] as const)
      for (const which of order) {
        const [a, c] = await queues(b, `${which}${round}`)
        for (let i = 0; i < N; i += 1000) await b.enqueue(a, payloads.slice(i, i + 1000))
        const started = performance.now()
        if (which === 'hand') await handLoop(b, a, c)
        else {
          const r = await moveMessages(b, a, b, c, {batchSize: BATCH, idleMs: IDLE_MS, limit: N})
          if (r.done !== N) throw new Error(`moved ${r.done} of ${N}`)
        }
        rates[which].push(N / ((performance.now() - started) / 1000))
        if (which === 'move') {
          let text = ''
          const t0 = performance.now()
          const e = await exportMessages(b, c, async (lines) => void (text += lines), {consume: false, batchSize: BATCH, idleMs: IDLE_MS, limit: N})
          rates.export.push(e.exported / ((performance.now() - t0) / 1000))
          await b.purge(a)
          const t1 = performance.now()
          const i = await importMessages(b, a, () => Readable.from([text]), false, {batchSize: BATCH, allOrNothing: false, priority: false})
          rates.import.push(i.imported / ((performance.now() - t1) / 1000))
        }
        for (const q of [a, c]) await b.deleteQueue!(q).catch(() => {})
      }
    }
  } finally {
    await b.close()
  }
  const hand = median(rates.hand)
  const move = median(rates.move)
  console.log(
    `${b.displayUrl}: hand loop ${hand.toFixed(0)} msg/s, move ${move.toFixed(0)} msg/s (${(move / hand).toFixed(2)}x), export ${median(rates.export).toFixed(0)} msg/s, import ${median(rates.import).toFixed(0)} msg/s`,
  )
}
