// Runs the `queue top` screen in this process against a memory broker holding N busy queues:
// for trying the TUI by hand and for bench/top-cpu.mjs. Not a test.
//   npx tsx bench/top-demo.ts [queues=100] [intervalMs=1000] [--churn]
import {createBroker} from '../src/adapters/registry.js'
import {runTop} from '../src/tui/app.js'

const queues = Number(process.argv[2] ?? 100)
const intervalMs = Number(process.argv[3] ?? 1000)
const churn = process.argv.includes('--churn')

const broker = await createBroker('memory://top-demo', {timeoutMs: 1000})
const names = Array.from({length: queues}, (_, i) => `queue-${String(i).padStart(3, '0')}`)
for (const [i, name] of names.entries()) {
  await broker.enqueue(
    name,
    Array.from({length: (i * 37) % 500}, (_, j) => ({payload: JSON.stringify({job: j, queue: name, at: Date.now()}), name: 'demo.task'})),
  )
}
// a little traffic so rates, growth colours and sparklines move
let timer: NodeJS.Timeout | undefined
if (churn) {
  let tick = 0
  timer = setInterval(() => {
    tick++
    const name = names[tick % names.length]!
    void broker.enqueue(name, Array.from({length: 1 + (tick % 7)}, () => ({payload: Buffer.from([0, 1, 2, 250, tick % 256])})))
  }, 20)
}
await runTop({brokers: [broker], labels: ['memory'], intervalMs})
clearInterval(timer)
await broker.close()
