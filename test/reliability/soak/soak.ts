// A steady-rate soak: the test produces numbered, timestamped messages at a fixed rate through the
// adapter while one `queue work` process (the thing under test) consumes them. Every second the
// worker's RSS is sampled from /proc; every completed event gives a latency (sent → reported done).
// Per window: messages, p99, RSS. At the end: the sequence ledger (lost, duplicated) after a drain.
import {readFileSync} from 'node:fs'
import {isolatedHome} from '../../helpers/cli.js'
import {ledger, sleep, startCli, uniqueName, withBroker} from '../harness.js'

export interface SoakOptions {
  url: string
  queue: string
  rate: number // messages per second
  seconds: number
  windowSeconds: number
  createQueue?: boolean
  concurrency?: number
}

export interface SoakWindow {
  at: number // seconds since start
  completed: number
  p50: number
  p99: number
  rssMb: number
}

export interface SoakResult {
  sent: number
  received: number
  lost: number
  duplicated: number
  sendErrors: number
  workerErrors: number
  windows: SoakWindow[]
  /** Highest worker RSS in the first half of the run (MiB). */
  rssStartMb: number
  /** Highest worker RSS in the second half, the end included (MiB). */
  rssEndMb: number
  workerExit: number | null
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : 0)

function rssMbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const env = isolatedHome()
  return withBroker(o.url, async (broker) => {
    if (o.createQueue) await broker.createQueue(o.queue)
    const worker = startCli(['work', o.queue, '--url', o.url, '--echo', '--json', '--concurrency', String(o.concurrency ?? 16)], env)
    const seen: number[] = []
    let workerErrors = 0
    let probed = false
    let buffered = ''
    let windowLatencies: number[] = []
    worker.child.stdout!.on('data', (d: Buffer | string) => {
      const now = Date.now()
      buffered += d.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        if (line.includes('"event":"error"')) workerErrors++
        if (line.includes('probe')) probed = true
        if (!line.includes('"event":"completed"')) continue
        const m = /\\"seq\\":(\d+),\\"t\\":(\d+)/.exec(line)
        if (!m) continue
        seen.push(Number(m[1]))
        windowLatencies.push(now - Number(m[2]))
      }
    })
    const pid = worker.child.pid!
    // the clock starts once the worker is up: a probe message it has completed (start-up of the CLI
    // on a loaded machine can take many seconds, which is not what the soak measures)
    await broker.enqueue(o.queue, [{payload: '{"probe":true}', contentType: 'application/json'}])
    const upBy = Date.now() + 120_000
    while (!probed && Date.now() < upBy) await sleep(100)
    if (!probed) throw new Error(`the worker did not complete a probe message within 120 s: ${worker.stderr().slice(-500)}`)
    const started = Date.now()
    const windows: SoakWindow[] = []
    const rss: number[] = []
    let sent = 0
    let sendErrors = 0
    let nextWindow = started + o.windowSeconds * 1000
    let completedAtLastWindow = 0
    const tickMs = 100
    const end = started + o.seconds * 1000
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - started) / 1000) * o.rate)
      const n = Math.min(due - sent, 1000)
      if (n > 0) {
        const t = Date.now()
        const batch = Array.from({length: n}, (_, i) => ({payload: `{"seq":${sent + i},"t":${t}}`, contentType: 'application/json'}))
        try {
          await broker.enqueue(o.queue, batch)
          sent += n
        } catch {
          sendErrors++
        }
      }
      if (rss.length < (Date.now() - started) / 1000) rss.push(rssMbOf(pid))
      if (Date.now() >= nextWindow) {
        const sorted = windowLatencies.sort((a, b) => a - b)
        windows.push({at: Math.round((Date.now() - started) / 1000), completed: seen.length - completedAtLastWindow, p50: pct(sorted, 50), p99: pct(sorted, 99), rssMb: Math.round(rssMbOf(pid))})
        completedAtLastWindow = seen.length
        windowLatencies = []
        nextWindow += o.windowSeconds * 1000
      }
      await sleep(tickMs)
    }
    // drain: wait for the worker to catch up, bounded
    const drainUntil = Date.now() + 60_000
    while (new Set(seen).size < sent && Date.now() < drainUntil) await sleep(200)
    const rssEndMb = rssMbOf(pid)
    worker.child.kill('SIGTERM')
    const exit = await worker.exited
    await broker.deleteQueue(o.queue).catch(() => {})
    const book = ledger(sent, seen)
    // memory flat: the highest RSS of the second half of the windows against that of the first half
    const w = windows.map((x) => x.rssMb)
    const half = Math.ceil(w.length / 2)
    return {
      sent,
      received: book.received,
      lost: book.lost.length,
      duplicated: book.duplicated,
      sendErrors,
      workerErrors,
      windows,
      rssStartMb: Math.max(0, ...w.slice(0, half)),
      rssEndMb: Math.max(Math.round(rssEndMb), ...w.slice(half)),
      workerExit: exit.code,
    }
  })
}

export const soakQueue = (kind: string) => (kind === 'redis' ? `list:${uniqueName('soak')}` : uniqueName('soak'))

/** One line for the log and RELIABILITY.md. */
export function describeSoak(name: string, r: SoakResult): string {
  const p99s = r.windows.map((w) => w.p99)
  const rss = r.windows.map((w) => w.rssMb)
  return `[reliability] soak ${name}: sent ${r.sent}, received ${r.received}, lost ${r.lost}, duplicated ${r.duplicated}, send errors ${r.sendErrors}, worker errors ${r.workerErrors}; p99 per window ${p99s.join('/')} ms; worker RSS max 1st half ${r.rssStartMb} / 2nd half ${r.rssEndMb} MiB (windows ${rss.join('/')})`
}
