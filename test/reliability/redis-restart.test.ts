// Redis crashes (SIGKILL) and comes back mid-run. The server is the test's own, on a spare loopback
// port with AOF and appendfsync always, so every acknowledged write survives the crash. Claims:
//  1. a worker whose Redis stays away longer than --reconnect-timeout exits 3 with one line (no
//     stack); started again (as a supervisor would) it finishes every message, leased ones included;
//  2. a worker spanning a restart waits it out and finishes every message (none lost);
//  3. Ctrl-C while it waits for Redis stops it at once;
//  4. `queue bench` spanning the restart recovers and completes with a clean ledger (issue 11), on
//     list, stream and bullmq queues.
import {existsSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {killChildren, PrivateRedis, completedSeqs, freePort, ledger, numbered, runQ, sleep, startCli, uniqueName, until} from './harness.js'

const env = isolatedHome()
const redis = new PrivateRedis(0)

beforeAll(async () => {
  ;(redis as {port: number}).port = await freePort()
  await redis.start()
})
afterAll(async () => {
  killChildren()
  await redis.stop()
})

async function restart(downMs: number): Promise<void> {
  await redis.kill('SIGKILL')
  await sleep(downMs)
  await redis.start()
}

describe('Redis restart (private server, AOF always)', () => {
  it('worker loses Redis for longer than --reconnect-timeout: exit 3 in one line; restarted, it completes every message (none lost)', async () => {
    const name = uniqueName('restart')
    const queue = `list:${name}`
    const before = 1500
    const after = 500
    const enq = await runQ(['enqueue', queue, '--url', redis.url], {env, input: numbered(0, before)})
    expect(enq.code, enq.stderr).toBe(0)

    const a = startCli(['work', queue, '--url', redis.url, '--echo', '--json', '--delay-ms', '20', '--concurrency', '8', '--lease', '2s', '--reconnect-timeout', '2s'], env)
    await until(() => completedSeqs(a.stdout()).length >= 150, 'worker A to complete 150', 60_000)
    const crashAt = Date.now()
    await redis.kill('SIGKILL')
    const aExit = await a.exited
    const exitedAfterMs = Date.now() - crashAt
    expect(aExit.code, a.stderr()).toBe(3)
    expect(exitedAfterMs).toBeLessThan(15_000)
    expect(a.stdout() + a.stderr()).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/) // no stack trace
    await sleep(500)
    await redis.start()

    // every acknowledged enqueue survived: waiting + leased = not yet completed (± in-flight acks)
    const fromA = completedSeqs(a.stdout())
    const waiting = Number(await redis.cli('LLEN', name))
    const leased = Number(await redis.cli('LLEN', `{${name}}:processing`))
    expect(waiting + leased).toBeGreaterThanOrEqual(before - fromA.length)

    // the producer carries on after the restart
    const enq2 = await runQ(['enqueue', queue, '--url', redis.url], {env, input: numbered(before, before + after)})
    expect(enq2.code, enq2.stderr).toBe(0)

    const b = await runQ(['work', queue, '--url', redis.url, '--echo', '--json', '--concurrency', '16', '--lease', '2s', '--until-empty'], {env, timeoutMs: 120_000})
    expect(b.code, b.stderr).toBe(0)
    const book = ledger(before + after, [...fromA, ...completedSeqs(b.stdout)])
    console.log(`[reliability] redis-restart work: ${JSON.stringify({...book, lost: book.lost.length, fromA: fromA.length, workerExitMs: exitedAfterMs})}`)
    expect(book.lost).toEqual([])
    expect(book.duplicated).toBeLessThanOrEqual(16) // only A's leases at the crash may run twice
  }, 180_000)

  it('worker across a Redis restart waits it out and completes every message (none lost)', async () => {
    const name = uniqueName('rework')
    const queue = `list:${name}`
    const before = 2000
    const after = 500
    const enq = await runQ(['enqueue', queue, '--url', redis.url], {env, input: numbered(0, before)})
    expect(enq.code, enq.stderr).toBe(0)
    const w = startCli(['work', queue, '--url', redis.url, '--echo', '--json', '--delay-ms', '20', '--concurrency', '8', '--lease', '2s', '--until-empty'], env)
    await until(() => completedSeqs(w.stdout()).length >= 200, 'the worker to complete 200', 60_000)
    const atCrash = completedSeqs(w.stdout()).length
    await restart(2000)
    // the producer carries on after the restart, while the same worker is still running
    const enq2 = await runQ(['enqueue', queue, '--url', redis.url], {env, input: numbered(before, before + after)})
    expect(enq2.code, enq2.stderr).toBe(0)
    const exit = await w.exited
    expect(exit.code, w.stderr().slice(-800)).toBe(0)
    const seen = completedSeqs(w.stdout())
    expect(atCrash, 'the worker had finished before the crash: no restart was tested').toBeLessThan(before)
    const book = ledger(before + after, seen)
    const reconnects = w.stdout().split('\n').filter((l) => l.includes('"event":"reconnected"')).length
    console.log(`[reliability] redis-restart work across: ${JSON.stringify({...book, lost: book.lost.length, atCrash, reconnects})}`)
    expect(book.lost).toEqual([])
    expect(reconnects, 'a "reconnected" event').toBeGreaterThanOrEqual(1)
    expect(book.duplicated).toBeLessThanOrEqual(16) // only the leases held at the crash may run twice
    expect(w.stdout() + w.stderr()).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/)
  }, 180_000)

  it('Ctrl-C while waiting for Redis to come back stops the worker at once (exit 130)', async () => {
    const name = uniqueName('sigint')
    const queue = `list:${name}`
    const enq = await runQ(['enqueue', queue, '--url', redis.url], {env, input: numbered(0, 10)})
    expect(enq.code, enq.stderr).toBe(0)
    const w = startCli(['work', queue, '--url', redis.url, '--echo', '--json'], env)
    await until(() => completedSeqs(w.stdout()).length >= 10, 'the worker to complete 10', 60_000)
    await redis.kill('SIGKILL')
    try {
      await until(() => w.stdout().includes('"event":"reconnecting"'), 'the worker to notice the outage', 15_000)
      const at = Date.now()
      w.child.kill('SIGINT')
      const exit = await w.exited
      expect(exit.code, w.stderr()).toBe(130)
      expect(Date.now() - at, 'stopped without waiting out --reconnect-timeout (60 s)').toBeLessThan(5000)
    } finally {
      await redis.start()
    }
  }, 120_000)

  it.each(['list', 'stream', 'bullmq'])('queue bench on a %s queue across a Redis restart recovers and completes: lost 0, duplicates counted', async (kind) => {
    const out = join(tmpdir(), `${uniqueName('bench')}.json`)
    const rate = 200
    const seconds = 30
    const name = uniqueName('bench')
    // a delivery whose reply the crash swallowed stays leased until its lease expires, then comes
    // again: with the default 30 s lease (BullMQ's stalled check, every 15 s, needs two passes)
    // that return could land after the 30 s drain and count as lost; a 5 s lease keeps it inside
    const bench = startCli(
      ['bench', '--url', `${redis.url}?leaseMs=5000`, '--queue', `${kind}:${name}`, '--rate', `${rate}/s`, '--duration', `${seconds}s`, '--drain', '30s', '--out', out, '--json'],
      env,
    )
    // the crash lands mid-run: once the bench has sent (its queue has items), a few seconds on
    const started = async () =>
      kind === 'list' ? (await redis.cli('SISMEMBER', 'queuectl:lists', name)) === '1' : (await redis.cli('--scan', '--pattern', `*${name}*`)).length > 0
    await until(started, 'the bench to start sending', 90_000)
    let benchDone = false
    void bench.exited.then(() => (benchDone = true))
    await sleep(3000)
    expect(benchDone, 'the bench had finished before the crash: no restart was tested').toBe(false)
    await restart(2000)
    const exit = await bench.exited
    expect(existsSync(out), `bench wrote no result (exit ${exit.code}): ${bench.stderr().slice(-800)} ${bench.stdout().slice(-800)}`).toBe(true)
    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number>
    const summary = {sent: result.sent, processed: result.processed, lost: result.lost, duplicates: result.duplicates, resent: result.resent ?? 0, errors: result.errors, lastError: result.lastError, exit: exit.code}
    console.log(`[reliability] redis-restart bench ${kind}: ${JSON.stringify(summary)}`)
    expect(exit.code, bench.stderr().slice(-800)).toBe(0)
    expect(result.lost).toBe(0)
    // processed counts unique messages: every one sent, once or more
    expect(result.processed).toBe(result.sent)
    // at-least-once: only the leases held at the crash (prefetch 64) and a re-sent batch (100) may come twice
    expect(result.duplicates).toBeLessThanOrEqual(64 + 100 * (result.resent ?? 0))
    // recovered: most of the schedule was sent, i.e. sending resumed after the ~2-3 s outage
    expect(result.sent, `only ${result.sent} of ${rate * seconds} sent: the bench did not recover after Redis came back`).toBeGreaterThan(rate * seconds * 0.6)
  }, 120_000)
})
