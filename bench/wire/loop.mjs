// The load loop every yardstick shares, shaped like `queue bench` (src/loadgen/run.ts): one producer
// and one consumer at once on one queue; closed loop (at most `inflight` sent and not processed,
// refilled in batches of `batch`) or open loop (`rate`/s on a schedule, latency from the intended
// send time). Each message starts with the bench's 16-byte header, so latency is measured the same
// way. A client gives: send(buffers) → Promise (confirmed), consume(onPayload) → Promise<stop>.
import hdr from 'hdr-histogram-js'

/** Open loop: batches sent and not yet confirmed, at most (src/loadgen/run.ts has the same). */
const OPEN_SENDS_IN_FLIGHT = 16

const origin = performance.timeOrigin
export const clock = () => origin + performance.now()

/** Buffers of `size` bytes, header written (send time float64 LE, seq uint32, agent 0, magic "QB"). */
export function makePayload(size, sentAt, seq) {
  const buf = Buffer.alloc(Math.max(16, size), 0x78)
  buf.writeDoubleLE(sentAt, 0)
  buf.writeUInt32LE(seq >>> 0, 8)
  buf.writeUInt16LE(0, 12)
  buf.writeUInt16LE(0x5142, 14)
  return buf
}

/**
 * Runs the loop and returns {throughput, p50, p99, p999, count} (ms, msg/s).
 * opts: {count, inflight, batch, size, rate?, pipeline (batches in flight at once)}
 */
export async function runLoop(client, opts) {
  const {count, size} = opts
  const inflight = opts.inflight ?? 1000
  const batch = opts.batch ?? 100
  const pipeline = opts.pipeline ?? 1
  const h = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3})
  let processed = 0
  let sent = 0 // handed to the client (confirmed or not)
  let sending = 0 // batches awaiting their confirms
  let lastDone = 0
  let failure
  let wake
  const nudge = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const seen = new Uint8Array(count)
  let done
  const finished = new Promise((resolve) => (done = resolve))
  const stop = await client.consume((payload) => {
    const now = clock()
    const seq = payload.readUInt32LE(8)
    if (seen[seq]) return
    seen[seq] = 1
    h.recordValue(Math.max(1, Math.round((now - payload.readDoubleLE(0)) * 1000)))
    lastDone = now
    if (++processed === count) done()
    if (wake && sent - processed <= inflight / 2) nudge()
  })
  const start = clock()
  const send = (buffers) => {
    sending++
    client.send(buffers).then(
      () => {
        sending--
        nudge()
      },
      (error) => {
        failure ??= error
        done()
      },
    )
  }
  if (opts.rate) {
    const every = 1000 / opts.rate
    while (sent < count && !failure) {
      const now = clock() - start
      let n = 0
      while (sent + n < count && n < batch && (sent + n) * every <= now) n++
      if (n === 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, sent * every - now)))
        continue
      }
      const buffers = []
      for (let k = 0; k < n; k++) buffers.push(makePayload(size, start + (sent + k) * every, sent + k))
      sent += n
      send(buffers)
      // at most OPEN_SENDS_IN_FLIGHT batches awaiting their confirms, as queue bench does
      while (sending >= OPEN_SENDS_IN_FLIGHT && !failure) await new Promise((resolve) => (wake = resolve))
    }
  } else {
    while (sent < count && !failure) {
      const room = inflight - (sent - processed)
      if (room <= 0 || sending >= pipeline) {
        await new Promise((resolve) => (wake = resolve))
        continue
      }
      const n = Math.min(batch, room, count - sent)
      const t = clock()
      const buffers = []
      for (let k = 0; k < n; k++) buffers.push(makePayload(size, t, sent + k))
      sent += n
      send(buffers)
    }
  }
  await finished
  await stop()
  if (failure) throw failure
  const ms = (v) => Math.round(v) / 1000
  return {
    count: processed,
    throughput: Math.round((processed * 1000) / Math.max(1, lastDone - start)),
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
  }
}

/** argv[2] as JSON options; prints the result as one JSON line. */
export async function main(open) {
  const opts = JSON.parse(process.argv[2] ?? '{}')
  const client = await open(opts)
  try {
    console.log(JSON.stringify(await runLoop(client, opts)))
  } finally {
    await client.close()
  }
}
