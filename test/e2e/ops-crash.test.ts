// A broker that dies in the middle of `queue move`: the destination (RabbitMQ behind a proxy we
// cut) goes away after some batches. The command stops with the counts and exit 3; running it
// again once the broker is back finishes the job, and every message is at the destination (some
// perhaps twice, none lost) with nothing left at the source.
import {spawn} from 'node:child_process'
import {afterAll, describe, expect, it} from 'vitest'
import {BIN, isolatedHome, runCli} from '../helpers/cli.js'
import {AMQP_URL} from '../adapters/amqp/helpers.js'
import {startTcpProxy} from '../ops/tcp-proxy.js'
import {counts, eventually, open, targets, type OpsTarget} from '../ops/targets.js'

const env = {...isolatedHome(), AWS_EC2_METADATA_DISABLED: 'true'}
const byName = Object.fromEntries(targets().map((t) => [t.name, t]))
const made: {t: OpsTarget; q: string}[] = []
afterAll(async () => {
  await Promise.allSettled(made.map(({t, q}) => t.drop(q)))
}, 120_000)

const TOTAL = 400

describe('a broker dying mid-move', () => {
  it('loses nothing, and re-running the command finishes the job', async () => {
    const source = byName['redis list']!
    const rabbit = byName.rabbitmq!
    const src = await source.fresh('crash-src')
    made.push({t: source, q: src})
    const dst = await rabbit.fresh('crash-dst')
    made.push({t: rabbit, q: dst})
    const b = await open(source.url())
    try {
      await b.enqueue(src, [...Array(TOTAL)].map((_, i) => ({payload: JSON.stringify({seq: i}), name: 'job'})))
    } finally {
      await b.close()
    }
    const amqp = new URL(AMQP_URL)
    const proxy = await startTcpProxy(amqp.hostname, Number(amqp.port || 5672))
    try {
      const viaProxy = new URL(AMQP_URL)
      viaProxy.port = String(proxy.port)
      const args = ['move', src, dst, '--url', source.url(), '--to-url', viaProxy.href, '--yes', '--batch-size', '20', '--idle', '2s', '--json']
      // the connection handshake and the first batches pass; then the broker "dies"
      proxy.cutAfter(20_000)
      const first = await runCli(args, {env, timeoutMs: 90_000})
      expect(proxy.cut).toBe(true)
      expect(first.code).toBe(3)
      expect(first.stderr).toMatch(/the move stopped: .* run the command again to finish/)
      const partial = JSON.parse(first.stdout) as {moved: number; failed: number}
      expect(partial.moved).toBeGreaterThan(0)
      expect(partial.moved).toBeLessThan(TOTAL)
      // nothing was lost: what did not reach the destination is back at the source, not leased
      const left = await counts(source.url(), src)
      expect(left.inflight ?? 0).toBe(0)
      expect(left.waiting).toBeGreaterThanOrEqual(TOTAL - partial.moved - partial.failed)

      proxy.restore()
      const second = await runCli(args, {env, timeoutMs: 90_000})
      expect(second.stderr).toBe('')
      expect(second.code).toBe(0)
      expect(await counts(source.url(), src)).toMatchObject({waiting: 0})

      // every seq reached RabbitMQ at least once
      const exported = await runCli(['export', dst, '--url', AMQP_URL], {env, timeoutMs: 90_000})
      expect(exported.code).toBe(0)
      const seqs = new Set(exported.stdout.trim().split('\n').map((l) => (JSON.parse(JSON.parse(l).payload as string) as {seq: number}).seq))
      expect(seqs.size).toBe(TOTAL)
    } finally {
      await proxy.close()
    }
  }, 240_000)
})

const TOTAL_INT = 50_000

describe('Ctrl-C in the middle of a move', () => {
  it('stops after the batch in hand, exits 130, and nothing is lost', async () => {
    const list = byName['redis list']!
    const src = await list.fresh('int-src')
    made.push({t: list, q: src})
    const dst = await list.fresh('int-dst')
    made.push({t: list, q: dst})
    const b = await open(list.url())
    try {
      await b.enqueue(src, [...Array(TOTAL_INT)].map((_, i) => ({payload: `{"seq":${i}}`})))
    } finally {
      await b.close()
    }
    // SIGINT once the move is visibly under way (not before the command could install its handler)
    const child = spawn(process.execPath, [BIN, 'move', src, dst, '--url', list.url(), '--yes', '--batch-size', '20'], {
      env: {...process.env, NO_COLOR: '1', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await eventually(async () => ((await counts(list.url(), dst)).waiting ?? 0) > 0, 60_000, 'the move to start')
    child.kill('SIGINT')
    const r = {code: await exited, stderr}
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/interrupted: moved \d+/)
    const from = await counts(list.url(), src)
    const to = await counts(list.url(), dst)
    expect(from.inflight ?? 0).toBe(0)
    // acked only after the copy was confirmed: together they hold everything (a batch may be in both)
    expect((from.waiting ?? 0) + (to.waiting ?? 0)).toBeGreaterThanOrEqual(TOTAL_INT)
  }, 180_000)
})
