// AMQP adapter throughput vs a raw amqplib loop with the same settings, side by side in one run
// against the local RabbitMQ (rounds alternate which goes first).
// Run: npm run build && npx tsx bench/amqp.ts [messages=20000] [rounds=3] [url=amqp://guest:guest@127.0.0.1:5672/]
// Publish: persistent + mandatory, publisher confirms, at most CONFIRM_WINDOW unconfirmed, the same
// properties on the wire (message id, timestamp). Consume: prefetch 100, manual ack of each message.
import {randomUUID} from 'node:crypto'
import amqp, {type ConfirmChannel} from 'amqplib'
import type {Broker} from '../src/broker/contract.js'

// the built adapter (npm run build), as users run it: tsx's transform would add per-closure
// overhead (esbuild keepNames) to our side only, since amqplib is plain JavaScript
const built = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href)
const {CONFIRM_WINDOW} = (await built('adapters/amqp/publish.js')) as typeof import('../src/adapters/amqp/publish.js')
const {createBroker} = (await built('adapters/registry.js')) as typeof import('../src/adapters/registry.js')

const N = Number(process.argv[2] ?? 20_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const BROKER_URL = process.argv[4] ?? 'amqp://guest:guest@127.0.0.1:5672/'
const PREFETCH = 100
const QUEUE = `qctl-bench-${process.pid}`
const payload = (i: number) => JSON.stringify({seq: i, to: 'ada@example.com', body: 'x'.repeat(200)})

async function rawPublish(ch: ConfirmChannel): Promise<void> {
  let confirmed = 0
  let published = 0
  let wake: (() => void) | undefined
  const nudge = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  ch.on('drain', nudge)
  while (published < N) {
    while (published - confirmed >= CONFIRM_WINDOW) await new Promise<void>((r) => (wake = r))
    const ok = ch.publish('', QUEUE, Buffer.from(payload(published)), {persistent: true, mandatory: true, messageId: randomUUID(), timestamp: Math.floor(Date.now() / 1000)}, (err) => {
      if (err) throw err
      confirmed++
      nudge()
    })
    published++
    if (!ok) await new Promise<void>((r) => ch.once('drain', () => r()))
  }
  while (confirmed < N) await new Promise<void>((r) => (wake = r))
  ch.off('drain', nudge)
}

async function rawConsume(conn: amqp.ChannelModel): Promise<void> {
  const ch = await conn.createChannel()
  await ch.prefetch(PREFETCH)
  let got = 0
  await new Promise<void>((resolve) => {
    void ch.consume(QUEUE, (m) => {
      if (!m) return
      ch.ack(m)
      if (++got === N) resolve()
    })
  })
  await ch.close()
}

async function adapterPublish(broker: Broker): Promise<void> {
  await broker.enqueue(QUEUE, Array.from({length: N}, (_, i) => ({payload: payload(i)})))
}

async function adapterConsume(broker: Broker): Promise<void> {
  let got = 0
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const sub = await broker.consume(QUEUE, (lease) => {
    void lease.ack()
    if (++got === N) done()
  }, {prefetch: PREFETCH})
  await finished
  await sub.close()
}

/** Messages per second, and our process's CPU µs per message (steadier than wall time on a busy machine). */
async function timed(fn: () => Promise<void>): Promise<{rate: number; cpu: number}> {
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  await fn()
  const used = process.cpuUsage(c)
  return {rate: N / (Number(process.hrtime.bigint() - t) / 1e9), cpu: (used.user + used.system) / N}
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const conn = await amqp.connect(BROKER_URL)
const setup = await conn.createChannel()
await setup.assertQueue(QUEUE, {durable: true})
const pubCh = await conn.createConfirmChannel()
const broker = await createBroker(BROKER_URL, {timeoutMs: 10_000})
await broker.connect()

type Sample = {rate: number; cpu: number}
const results = {rawPublish: [] as Sample[], adapterPublish: [] as Sample[], rawConsume: [] as Sample[], adapterConsume: [] as Sample[]}
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['raw', 'adapter'] as const) : (['adapter', 'raw'] as const)
    for (const who of order) {
      await setup.purgeQueue(QUEUE)
      const pub = await timed(() => (who === 'raw' ? rawPublish(pubCh) : adapterPublish(broker)))
      // consume what was just published: both sides read the same N persistent messages
      const con = await timed(() => (who === 'raw' ? rawConsume(conn) : adapterConsume(broker)))
      results[`${who}Publish`].push(pub)
      results[`${who}Consume`].push(con)
      console.error(`round ${round + 1} ${who}: publish ${pub.rate.toFixed(0)}/s ${pub.cpu.toFixed(1)}µs cpu, consume ${con.rate.toFixed(0)}/s ${con.cpu.toFixed(1)}µs cpu`)
    }
  }
} finally {
  await setup.deleteQueue(QUEUE).catch(() => {})
  await broker.close()
  await conn.close()
}

const med = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]))
const row = (what: string, raw: Sample[], ours: Sample[]) =>
  `| ${what} | ${med(raw, 'rate').toFixed(0)} | ${med(ours, 'rate').toFixed(0)} | ${(med(ours, 'rate') / med(raw, 'rate')).toFixed(2)}x | ${med(raw, 'cpu').toFixed(1)} | ${med(ours, 'cpu').toFixed(1)} |`
console.log(`messages=${N} rounds=${ROUNDS} window=${CONFIRM_WINDOW} prefetch=${PREFETCH} (medians)`)
console.log('| | raw amqplib msg/s | adapter msg/s | adapter / raw | raw CPU µs/msg | adapter CPU µs/msg |')
console.log('|---|---:|---:|---:|---:|---:|')
console.log(row('confirmed publish (persistent)', results.rawPublish, results.adapterPublish))
console.log(row('prefetch consume + ack', results.rawConsume, results.adapterConsume))
