// `queue export --consume` into a real shell pipe. A reader that quits early (`| head -n 10`)
// must not cost the messages it never read: only what was provably handed on is removed, the rest
// stays on the queue. A reader that reads everything gets everything, and the queue is emptied.
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {promisify} from 'node:util'
import {afterAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {isolatedHome} from '../helpers/cli.js'
import {open} from '../ops/targets.js'
import {BIN, sleep} from './harness.js'

const run = promisify(execFile)
const TARGETS = [
  {name: 'Redis list', url: 'redis://127.0.0.1:6379/13', queue: (h: string) => `list:${unique(h)}`},
  {name: 'RabbitMQ', url: 'amqp://guest:guest@127.0.0.1:5672/', queue: unique},
]
let seq = 0
function unique(hint: string): string {
  return `export-pipe-${hint}-${process.pid}-${seq++}`
}
const made: {url: string; q: string}[] = []
afterAll(async () => {
  await Promise.allSettled(made.map(({url, q}) => direct(url, (b) => b.deleteQueue(q))))
}, 60_000)

async function direct<R>(url: string, fn: (b: Broker) => Promise<R>): Promise<R> {
  const b = await open(url)
  try {
    return await fn(b)
  } finally {
    await b.close()
  }
}

async function filled(url: string, q: string, n: number): Promise<void> {
  made.push({url, q})
  await direct(url, async (b) => {
    await b.createQueue(q)
    await b.enqueue(q, [...Array(n)].map((_, i) => ({payload: JSON.stringify({seq: i}), contentType: 'application/json'})), {ids: false})
  })
}

const waiting = (url: string, q: string) => direct(url, async (b) => (await b.stats(q)).counts.waiting ?? 0)

/** Runs `queue export … | reader` in a shell; the exporter's stderr and exit code come back through files of the shell's own. */
async function pipeTo(reader: string, url: string, q: string, env: Record<string, string>) {
  const script = `"${process.execPath}" "${BIN}" export '${q}' --consume --yes --idle 1s --url '${url}' 2>"$ERR"; echo $? > "$CODE"`
  const dir = env.HOME!
  const {stdout} = await run('bash', ['-c', `set -o pipefail; (${script}) | ${reader}; cat "$ERR" >&2; true`], {
    env: {...process.env, ...env, NO_COLOR: '1', ERR: `${dir}/err`, CODE: `${dir}/code`},
    timeout: 60_000,
  })
  return {stdout, stderr: readFileSync(`${dir}/err`, 'utf8'), code: Number(readFileSync(`${dir}/code`, 'utf8').trim())}
}

function exportedPerAudit(env: Record<string, string>): number {
  const lines = readFileSync(`${env.XDG_STATE_HOME}/queuectl/audit.log`, 'utf8').trim().split('\n')
  return (JSON.parse(lines.at(-1)!) as {counts: {exported: number}}).counts.exported
}

for (const t of TARGETS) {
  describe.concurrent(`${t.name}: export --consume into a pipe`, () => {
    it('| head -n 10: head gets 10 lines, and the queue keeps every message head did not print', async () => {
      const n = 1000
      const q = t.queue('head')
      await filled(t.url, q, n)
      const env = isolatedHome()
      const r = await pipeTo('head -n 10', t.url, q, env)
      expect(r.stdout.trim().split('\n'), r.stderr).toHaveLength(10)
      expect(r.code, r.stderr).toBe(141) // the reader went away: as a process SIGPIPE ended
      const removed = exportedPerAudit(env)
      expect(removed, 'removed only lines head printed').toBeLessThanOrEqual(10)
      // RabbitMQ requeues what the closed channel held, and its management counts lag a few seconds behind
      const deadline = Date.now() + 15_000
      let left = await waiting(t.url, q)
      while (left !== n - removed && Date.now() < deadline) {
        await sleep(250)
        left = await waiting(t.url, q)
      }
      expect(left, r.stderr).toBe(n - removed)
    }, 90_000)

    it('| wc -l: a reader that reads everything gets every message, and the queue is emptied', async () => {
      const n = 250
      const q = t.queue('all')
      await filled(t.url, q, n)
      const env = isolatedHome()
      const r = await pipeTo('wc -l', t.url, q, env)
      expect(Number(r.stdout.trim()), r.stderr).toBe(n)
      expect(r.code, r.stderr).toBe(0)
      expect(exportedPerAudit(env)).toBe(n)
      expect(await waiting(t.url, q)).toBe(0)
    }, 90_000)
  })
}
