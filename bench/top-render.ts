// CPU per frame of the queue list with 100 queues, in-process (no broker, no terminal): renders
// TopApp's list to a fake 120x40 TTY and repaints it N times with changed counts. For finding
// where the time of bench/top-cpu.mjs goes; not a test.
//   npx tsx bench/top-render.ts [frames=200]          (unbundled: React's development build, stock Ink)
//   node bench/top-render-bundled.mjs [frames] [runs]  (bundled as shipped, stock vs patched Ink)
import {createHash} from 'node:crypto'
import {Writable} from 'node:stream'
import {Box, render} from 'ink'
import {createElement as h} from 'react'
import {QueueList} from '../src/tui/components/queue-list.js'
import {QueueHistory} from '../src/services/history.js'
import {buildRows, sortRows, totals} from '../src/tui/rows.js'
import type {BrokerSnapshot} from '../src/services/poller.js'

const frames = Number(process.argv[2] ?? 200)
class FakeTty extends Writable {
  isTTY = true
  columns = 120
  rows = 40
  bytes = 0
  readonly hash = createHash('sha256')
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.bytes += chunk.length
    this.hash.update(chunk)
    done()
  }
}
const stdout = new FakeTty() as unknown as NodeJS.WriteStream
const history = new QueueHistory()
const snapshot = (tick: number): BrokerSnapshot => {
  const queues = Array.from({length: 100}, (_, i) => ({name: `bench-${String(i).padStart(3, '0')}`, kind: 'list', counts: {waiting: (i * 37 + tick * (i % 5)) % 500, inflight: i % 3, dead: 0}, oldestAgeMs: 1000 * tick}))
  history.record(queues, tick)
  return {displayUrl: 'redis://127.0.0.1:6379', transport: 'redis', queues, history, stale: false, loading: false, version: tick}
}
const view = (tick: number) => {
  const rows = sortRows(buildRows([snapshot(tick)], ['r']), {key: 'name', desc: false})
  const list = h(QueueList, {rows, totals: totals(rows), selectedKey: rows[0]!.key, sort: {key: 'name', desc: false}, width: 120, height: 34, showSource: false})
  // laid out as in TopApp: a column of the terminal's height
  return h(Box, {flexDirection: 'column', height: 39, width: 120}, h(Box, {flexDirection: 'column', flexGrow: 1, overflow: process.env.CLIP ? 'hidden' : undefined}, list))
}
const instance = render(view(0), {stdout, maxFps: 1000, patchConsole: false, exitOnCtrlC: false})
for (let i = 1; i < 60; i++) instance.rerender(view(i)) // warm-up
await new Promise((resolve) => setTimeout(resolve, 50))
const c0 = process.cpuUsage()
const b0 = (stdout as unknown as FakeTty).bytes
for (let i = 60; i < 60 + frames; i++) {
  instance.rerender(view(i))
  await new Promise((resolve) => setImmediate(resolve))
}
const c = process.cpuUsage(c0)
instance.unmount()
const ms = (c.user + c.system) / 1000
// the hash of everything painted: the same for a build of this script with the bundle's Ink patches
// (scripts/bundle-tui.mjs) and without them, or a patch changed what the screen shows
const tty = stdout as unknown as FakeTty
console.log(`${frames} frames: ${(ms / frames).toFixed(2)} ms CPU a frame, ${((tty.bytes - b0) / frames / 1024).toFixed(1)} KiB a frame; output sha256 ${tty.hash.digest('hex').slice(0, 16)}`)
