// Yardstick for memory:// (the embedded broker): the in-process limit probe — the shared loop
// (bench/wire/loop.mjs) over a bare array queue with no broker at all: send pushes a batch, a
// consumer takes up to `prefetch` at a time on the next turn and "acks" by counting. What `queue
// bench --url memory://` does beyond this is the adapter's and runtime's own cost.
// Run: node bench/wire/memory.mjs '{"count":20000,"size":128,"prefetch":64}'
import {main} from './loop.mjs'

await main(async (o) => {
  const prefetch = o.prefetch ?? 64
  const items = []
  let head = 0
  let deliver
  let scheduled = false
  const pump = () => {
    scheduled = false
    let n = 0
    while (head < items.length && n++ < prefetch) {
      const b = items[head]
      items[head++] = undefined
      deliver(b)
    }
    if (head < items.length) schedule()
  }
  const schedule = () => {
    if (scheduled || !deliver) return
    scheduled = true
    setImmediate(pump)
  }
  return {
    send: async (buffers) => {
      for (const b of buffers) items.push(b)
      schedule()
    },
    consume: async (onPayload) => {
      deliver = onPayload
      schedule()
      return async () => (deliver = () => {})
    },
    close: async () => {},
  }
})
