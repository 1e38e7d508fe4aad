// Network trouble between the CLI and the broker, made by a TCP proxy of the test's own on loopback
// (harness FaultProxy): a stalled network (bytes stop, nothing is refused) and dropped connections
// (reset). Commands must give up with exit 3 and one line within their --timeout (plus start-up),
// and the stats poller behind `queue top` must show stale values and recover when the network does.
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {StatsPoller} from '../../src/services/poller.js'
import {createBroker} from '../../src/adapters/registry.js'
import {boundedBroker} from '../../src/broker/kit/deadline.js'
import {ConnectionError} from '../../src/kernel/errors.js'
import {FaultProxy, PrivateRedis, freePort, runQ, sleep, until, withBroker} from './harness.js'

const env = isolatedHome()
const redis = new PrivateRedis(0)
const proxies: FaultProxy[] = []
// What the CLI takes to start and fail fast right now (a refused port), measured once: on a loaded
// 2-core machine start-up alone can take seconds, so bounds are that plus the command's --timeout.
let baselineMs = 0
async function baseline(): Promise<number> {
  if (baselineMs) return baselineMs
  const port = await freePort()
  const r = await runQ(['inspect', 'q', '--url', `redis://127.0.0.1:${port}`], {env, timeoutMs: 90_000})
  expect(r.code).toBe(3)
  baselineMs = r.ms
  return baselineMs
}
const bound = async (timeoutMs: number) => timeoutMs + Math.max(8000, 3 * (await baseline()))

async function proxyTo(port: number): Promise<FaultProxy> {
  const p = new FaultProxy(port)
  await p.start()
  proxies.push(p)
  return p
}

beforeAll(async () => {
  ;(redis as {port: number}).port = await freePort()
  await redis.start()
})
afterAll(async () => {
  for (const p of proxies) await p.stop()
  await redis.stop()
})

describe('network trouble: commands give up in time with exit 3', () => {
  const cases: [string, () => Promise<string>][] = [
    ['Redis', async () => `redis://127.0.0.1:${(await proxyTo(redis.port)).port}`],
    ['RabbitMQ', async () => `amqp://guest:guest@127.0.0.1:${(await proxyTo(5672)).port}/`],
    ['SQS', async () => `sqs://AKIDTEST:secret@127.0.0.1:${(await proxyTo(Number(new URL(inject('sqsEndpoint')).port))).port}?region=us-east-1`],
  ]
  for (const [name, url] of cases) {
    it(`${name}: a stalled network — inspect and enqueue exit 3 within --timeout 2s`, async () => {
      const u = await url()
      proxies.at(-1)!.set('stall')
      for (const args of [['inspect', 'some-queue'], ['enqueue', 'some-queue', '{"a":1}']]) {
        const r = await runQ([...args, '--url', u, '--timeout', '2s'], {env, timeoutMs: 90_000})
        expect(r.code, `${args[0]} (killed after 90 s if null): ${r.stderr}`).toBe(3)
        expect(r.ms, `${args[0]} took ${r.ms} ms (baseline ${baselineMs} ms)`).toBeLessThan(await bound(2000))
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
        expect(r.stderr).toMatch(/time|timed out|did not answer|respond/i)
      }
    }, 120_000)

    it(`${name}: connections reset — inspect exits 3 in one line, quickly`, async () => {
      const u = await url()
      proxies.at(-1)!.set('drop')
      const r = await runQ(['inspect', 'some-queue', '--url', u, '--timeout', '5s'], {env, timeoutMs: 90_000})
      expect(r.code, r.stderr).toBe(3)
      expect(r.ms, `took ${r.ms} ms (baseline ${baselineMs} ms)`).toBeLessThan(await bound(5000))
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
    }, 120_000)
  }

  it('queue top --once through a stalled network: exit 3 within its timeout, no hang', async () => {
    const p = await proxyTo(redis.port)
    p.set('stall')
    const r = await runQ(['top', '--once', '--url', `redis://127.0.0.1:${p.port}`, '--timeout', '2s'], {env, timeoutMs: 90_000})
    expect(r.code, r.stdout + r.stderr).toBe(3)
    expect(r.ms, `took ${r.ms} ms (baseline ${baselineMs} ms)`).toBeLessThan(await bound(2000))
  }, 120_000)
})

describe('network trouble: `top` (its stats poller) goes stale and recovers', () => {
  async function watch(mode: 'stall' | 'drop') {
    const p = await proxyTo(redis.port)
    const url = `redis://127.0.0.1:${p.port}`
    await redis.cli('LPUSH', `rel-top-${mode}`, 'x')
    return withBroker(url, async (broker) => {
      const poller = new StatsPoller(broker, {intervalMs: 250, timeoutMs: 1000})
      poller.start()
      try {
        await until(() => !poller.snapshot.loading && !poller.snapshot.stale, 'a first fresh snapshot', 20_000)
        const before = poller.snapshot.lastRefreshAt!
        p.set(mode)
        await until(() => poller.snapshot.stale, `a stale snapshot after ${mode}`, 20_000)
        expect(poller.snapshot.error).toBeTruthy()
        expect(poller.snapshot.queues.length, 'last values kept while stale').toBeGreaterThan(0)
        await sleep(1500)
        p.set('pass')
        await until(() => !poller.snapshot.stale && poller.snapshot.lastRefreshAt! > before, `recovery after ${mode} ended`, 30_000)
        return true
      } finally {
        poller.stop()
      }
    })
  }

  it('a stalled network: stale with the last values, then fresh again', async () => {
    expect(await watch('stall')).toBe(true)
  }, 90_000)

  it('connections reset: stale, then fresh again once the network is back', async () => {
    expect(await watch('drop')).toBe(true)
  }, 90_000)
})

describe('network trouble: a bounded broker (one watchdog for every call in flight)', () => {
  it('a stalled call rejects within the timeout, the next fail at once while down, then calls work again', async () => {
    const p = await proxyTo(redis.port)
    const b = boundedBroker(await createBroker(`redis://127.0.0.1:${p.port}`, {timeoutMs: 1500}), 1500)
    await b.connect()
    try {
      await b.enqueue('list:bounded', [{payload: 'a'}], {ids: false})
      // acks and stats in flight together, all answered in time: nothing is failed by the watchdog
      await Promise.all(Array.from({length: 50}, () => b.stats('list:bounded')))
      p.set('stall')
      const t0 = performance.now()
      const stalled = await b.stats('list:bounded').catch((e: unknown) => e)
      const waited = performance.now() - t0
      expect(stalled).toBeInstanceOf(ConnectionError)
      expect((stalled as Error).message).toMatch(/did not answer \(stats of "list:bounded"\) within 1\.5 s/)
      expect(waited).toBeGreaterThanOrEqual(1450)
      expect(waited).toBeLessThan(1500 + 3000)
      const t1 = performance.now()
      await expect(b.enqueue('list:bounded', [{payload: 'b'}], {ids: false})).rejects.toBe(stalled)
      expect(performance.now() - t1).toBeLessThan(500)
      p.set('pass')
      const counts = await until(() => b.stats('list:bounded').then((s) => s.counts, () => undefined), 'stats once the network is back', 30_000, 200)
      expect(counts.waiting).toBeGreaterThanOrEqual(1)
    } finally {
      await b.close()
    }
  }, 60_000)
})
