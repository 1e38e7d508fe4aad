// A broker that dies in the middle of `queue move`: the destination (RabbitMQ behind a proxy we
// cut) goes away after some batches. The command stops with the counts and exit 3; running it
// again once the broker is back finishes the job, and every message is at the destination (some
// perhaps twice, none lost) with nothing left at the source.
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {AMQP_URL} from '../adapters/amqp/helpers.js'
import {startTcpProxy} from '../ops/tcp-proxy.js'
import {counts, open, targets, type OpsTarget} from '../ops/targets.js'

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
