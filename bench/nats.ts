// NATS JetStream adapter throughput vs a raw @nats-io/jetstream loop doing the same work, side by
// side on the nats-server at 127.0.0.1:4222 (or NATS_URL).
// Run: npx tsx bench/nats.ts [messages=20000] [rounds=5]  (plus one warm-up round, not counted)
// Publish: one adapter enqueue() of N (its window: 512 acks in flight) vs raw js.publish() lanes
// with the same window. Consume+ack: adapter consume() with prefetch 256 vs raw consumer.consume()
// with max_messages 256 and a callback, each message acked. Each round uses a fresh work-queue stream.
import {AckPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {createBroker} from '../src/adapters/registry.js'

const N = Number(process.argv[2] ?? 20_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const WINDOW = 512
const PREFETCH = 256
const URL_ = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const payload = (i: number) => JSON.stringify({seq: i, to: 'ada@example.com', body: 'x'.repeat(100)})

async function rawPublish(js: JetStreamClient, subject: string): Promise<void> {
  const enc = new TextEncoder()
  let next = 0
  const lane = async () => {
    while (next < N) await js.publish(subject, enc.encode(payload(next++)))
  }
  await Promise.all(Array.from({length: WINDOW}, lane))
}

async function rawConsume(js: JetStreamClient, stream: string): Promise<void> {
  const c = await js.consumers.get(stream, 'worker')
  let got = 0
  let done!: () => void
  const all = new Promise<void>((resolve) => (done = resolve))
  // the callback form: no promise per message, the fastest the client offers
  const msgs = await c.consume({
    max_messages: PREFETCH,
    callback: (m) => {
      m.ack()
      if (++got === N) done()
    },
  })
  await all
  await msgs.close()
}

async function fresh(jsm: JetStreamManager, name: string): Promise<void> {
  await jsm.streams.delete(name).catch(() => false)
  await jsm.streams.add({name, subjects: [name], retention: RetentionPolicy.Workqueue, storage: StorageType.File})
  await jsm.consumers.add(name, {durable_name: 'worker', ack_policy: AckPolicy.Explicit, max_ack_pending: -1})
}

async function main(): Promise<void> {
  const nc = await connect({servers: new URL(URL_).host})
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const broker = await createBroker(URL_, {timeoutMs: 5000})
  await broker.connect()
  const results: Record<string, number[]> = {'raw publish': [], 'adapter publish': [], 'raw consume+ack': [], 'adapter consume+ack': []}
  let counting = false
  const time = async (label: string, run: () => Promise<void>) => {
    const t = performance.now()
    await run()
    const rate = N / ((performance.now() - t) / 1000)
    if (counting) results[label]!.push(rate)
    process.stderr.write(`${counting ? '' : '(warm-up) '}${label}: ${rate.toFixed(0)} msg/s\n`)
  }
  for (let round = -1; round < ROUNDS; round++) {
    counting = round >= 0
    // alternate who goes first so warm-up and drift do not favour one side
    for (const who of round % 2 === 0 ? ['raw', 'adapter'] : ['adapter', 'raw']) {
      const s = `BENCH_${who.toUpperCase()}`
      await fresh(jsm, s)
      if (who === 'raw') {
        await time('raw publish', () => rawPublish(js, s))
        await time('raw consume+ack', () => rawConsume(js, s))
      } else {
        await time('adapter publish', async () => {
          await broker.enqueue(s, Array.from({length: N}, (_, i) => ({payload: payload(i)})), {ids: false})
        })
        await time('adapter consume+ack', async () => {
          let got = 0
          let done!: () => void
          const all = new Promise<void>((resolve) => (done = resolve))
          const sub = await broker.consume(s, (lease) => {
            void lease.ack()
            if (++got === N) done()
          }, {prefetch: PREFETCH})
          await all
          await sub.close()
        })
      }
      await jsm.streams.delete(s)
    }
  }
  await broker.close()
  await nc.close()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  // The machine's load drifts between rounds: compare within a round, then take the median ratio.
  console.log(`| operation (${N} msgs, ${ROUNDS} rounds) | raw client msg/s (median) | adapter msg/s (median) | adapter / raw (median of per-round ratios) |`)
  console.log(`|---|---:|---:|---:|`)
  for (const op of ['publish', 'consume+ack']) {
    const raw = results[`raw ${op}`]!
    const ours = results[`adapter ${op}`]!
    const ratios = ours.map((x, i) => x / raw[i]!)
    console.log(`| ${op} | ${median(raw).toFixed(0)} | ${median(ours).toFixed(0)} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`)
  }
}

await main()
