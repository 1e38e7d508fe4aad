// SQS adapter throughput vs a raw @aws-sdk/client-sqs loop with the same concurrency, side by side
// on the fauxqs emulator (run in its own process so it does not share our event loop).
// Run: npx tsx bench/sqs.ts [messages=5000] [rounds=5]  (plus one warm-up round, not counted)
// Send: adapter enqueue() (SendMessageBatch, 10 a call, 8 calls in flight) vs 8 raw lanes of
// SendMessageBatch. Receive+delete: adapter consume() with prefetch 40 (4 long-poll loops, acks
// gathered into DeleteMessageBatch) vs 4 raw lanes of ReceiveMessage(10) + DeleteMessageBatch.
import {spawn, type ChildProcess} from 'node:child_process'
import {CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageBatchCommand} from '@aws-sdk/client-sqs'
import {createBroker} from '../src/adapters/registry.js'
import {SEND_CONCURRENCY} from '../src/adapters/sqs/enqueue.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const N = Number(process.argv[2] ?? 5000)
const ROUNDS = Number(process.argv[3] ?? 5)
const RECEIVE_LANES = 4
const PREFETCH = RECEIVE_LANES * 10
const payload = (i: number) => JSON.stringify({seq: i, to: 'ada@example.com', body: 'x'.repeat(200)})

async function startEmulator(): Promise<{endpoint: string; child: ChildProcess}> {
  const code = `import {buildApp} from 'fauxqs'; const app = buildApp({logger: false}); const a = await app.listen({port: 0, host: '127.0.0.1'}); console.log(a)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'inherit']})
  const endpoint = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())))
  return {endpoint, child}
}

async function rawSend(client: SQSClient, url: string): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < N) {
      const start = next
      next = Math.min(N, next + 10)
      const entries = Array.from({length: next - start}, (_, k) => ({Id: String(k), MessageBody: payload(start + k)}))
      await client.send(new SendMessageBatchCommand({QueueUrl: url, Entries: entries}))
    }
  }
  await Promise.all(Array.from({length: SEND_CONCURRENCY}, lane))
}

/** Resolves when N messages were received and deleted; `lanes` when every lane has stopped. */
function rawReceive(client: SQSClient, url: string): {done: Promise<void>; lanes: Promise<void>} {
  let got = 0
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  const lane = async () => {
    while (got < N) {
      const out = await client.send(new ReceiveMessageCommand({QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All']}))
      const msgs = out.Messages ?? []
      if (msgs.length === 0) continue
      got += msgs.length
      await client.send(new DeleteMessageBatchCommand({QueueUrl: url, Entries: msgs.map((m, i) => ({Id: String(i), ReceiptHandle: m.ReceiptHandle!}))}))
      if (got >= N) finish()
    }
  }
  return {done, lanes: Promise.all(Array.from({length: RECEIVE_LANES}, lane)).then(() => {})}
}

async function main(): Promise<void> {
  const {endpoint, child} = await startEmulator()
  const client = new SQSClient({endpoint, region: 'us-east-1', credentials: {accessKeyId: 'bench', secretAccessKey: 'bench'}})
  const broker = await createBroker(`sqs://bench:bench@${new URL(endpoint).host}?region=us-east-1`, {timeoutMs: 5000})
  await broker.connect()
  const results: Record<string, number[]> = {'raw send': [], 'adapter send': [], 'raw receive+delete': [], 'adapter receive+delete': []}
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
    const q = `bench-${round + 1}`
    const {QueueUrl} = await client.send(new CreateQueueCommand({QueueName: q}))
    // alternate who goes first so warm-up and drift do not favour one side
    const order = round % 2 === 0 ? ['raw', 'adapter'] : ['adapter', 'raw']
    for (const who of order) {
      if (who === 'raw') {
        await time('raw send', () => rawSend(client, QueueUrl!))
        // the clock stops at the N-th delete (as for the adapter); idle long polls then wind down
        let lanes: Promise<void> = Promise.resolve()
        await time('raw receive+delete', async () => {
          const r = rawReceive(client, QueueUrl!)
          lanes = r.lanes
          await r.done
        })
        await lanes
      } else {
        await time('adapter send', async () => {
          await broker.enqueue(q, Array.from({length: N}, (_, i) => ({payload: payload(i)})))
        })
        await time('adapter receive+delete', async () => {
          let got = 0
          let done!: () => void
          const all = new Promise<void>((resolve) => (done = resolve))
          const sub = await broker.consume(q, (lease) => {
            void lease.ack()
            if (++got === N) done()
          }, {prefetch: PREFETCH})
          await all
          await sub.close()
        })
      }
    }
    await client.send(new DeleteQueueCommand({QueueUrl}))
  }
  await broker.close()
  client.destroy()
  child.kill()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  // The machine's load drifts between rounds: compare within a round, then take the median ratio.
  console.log(`| operation (${N} msgs, ${ROUNDS} rounds) | raw SDK msg/s (median) | adapter msg/s (median) | adapter / raw (median of per-round ratios) |`)
  console.log(`|---|---:|---:|---:|`)
  for (const op of ['send', 'receive+delete']) {
    const raw = results[`raw ${op}`]!
    const ours = results[`adapter ${op}`]!
    const ratios = ours.map((x, i) => x / raw[i]!)
    console.log(`| ${op} | ${median(raw).toFixed(0)} | ${median(ours).toFixed(0)} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`)
  }
}

await main()
