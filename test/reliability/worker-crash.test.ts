// A `queue work` killed with SIGKILL mid-batch: its leased messages must come back — after the lease
// expires (Redis list) or when the connection drops (AMQP) — and a second worker must finish them.
// The ledger is the sequence numbers in the payloads: every one of 0..N-1 completed at least once.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {killChildren, PrivateRedis, runQ, completedSeqs, freePort, ledger, numbered, startCli, uniqueName, until, withBroker} from './harness.js'

const N = 300
const env = isolatedHome()
const AMQP = process.env.QUEUECTL_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/'

async function crashAndRecover(url: string, queue: string, leaseFlags: string[], afterKill?: () => Promise<void>) {
  const enq = await runQ(['enqueue', queue, '--url', url], {env, input: numbered(0, N), timeoutMs: 60_000})
  expect(enq.code, enq.stderr).toBe(0)

  // worker A: slow jobs so that many are leased and running when it dies
  const a = startCli(['work', queue, '--url', url, '--echo', '--json', '--delay-ms', '40', '--concurrency', '8', ...leaseFlags], env)
  await until(() => completedSeqs(a.stdout()).length >= 40, 'worker A to complete 40 jobs', 60_000)
  a.child.kill('SIGKILL')
  const aExit = await a.exited
  expect(aExit.signal).toBe('SIGKILL')
  const fromA = completedSeqs(a.stdout())
  const startedA = a.stdout().split('\n').filter((l) => l.includes('"event":"started"')).length
  await afterKill?.()

  // worker B: runs until nothing is waiting or leased, so it must wait for A's leases to come back
  const b = await runQ(['work', queue, '--url', url, '--echo', '--json', '--concurrency', '16', '--until-empty', ...leaseFlags], {env, timeoutMs: 120_000})
  expect(b.code, b.stderr).toBe(0)
  const fromB = completedSeqs(b.stdout)
  const book = ledger(N, [...fromA, ...fromB])
  return {book, fromA: fromA.length, fromB: fromB.length, runningAtKill: startedA - fromA.length}
}

describe('worker crash (kill -9 mid-batch)', () => {
  const redis = new PrivateRedis(0)
  beforeAll(async () => {
    ;(redis as {port: number}).port = await freePort()
    await redis.start()
  })
  afterAll(async () => {
  killChildren()
  await redis.stop()
})

  it('Redis list: leases of the dead worker expire, a second worker completes them; none lost', async () => {
    const name = uniqueName('crash')
    // mid-batch: the dead worker still holds leases (items in the processing list)
    const leased = async () => expect(Number(await redis.cli('LLEN', `{${name}}:processing`)), 'leases held by the killed worker').toBeGreaterThan(0)
    const r = await crashAndRecover(redis.url, `list:${name}`, ['--lease', '2s'], leased)
    console.log(`[reliability] worker-crash redis-list: ${JSON.stringify({...r, book: {...r.book, lost: r.book.lost.length}})}`)
    expect(r.book.lost).toEqual([])
    expect(r.book.unique).toBe(N)
    // at-least-once: only what A had leased (running or prefetched) may run twice
    expect(r.book.duplicated).toBeLessThanOrEqual(16)
  }, 180_000)

  it('RabbitMQ: unacked deliveries of the dead worker are requeued on connection close; none lost', async () => {
    const queue = uniqueName('crash')
    await withBroker(AMQP, (b) => b.createQueue(queue))
    try {
      const r = await crashAndRecover(AMQP, queue, [])
      console.log(`[reliability] worker-crash amqp: ${JSON.stringify({...r, book: {...r.book, lost: r.book.lost.length}})}`)
      expect(r.book.lost).toEqual([])
      expect(r.book.unique).toBe(N)
      expect(r.book.duplicated).toBeLessThanOrEqual(16)
    } finally {
      await withBroker(AMQP, (b) => b.deleteQueue(queue)).catch(() => {})
    }
  }, 180_000)
})
