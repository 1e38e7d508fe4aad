// RabbitMQ stops (stop_app) and starts again (start_app) mid-run. The node is the test's OWN
// (own name, ports, data dir, cookie: see PrivateRabbit in harness.ts), not the machine's shared
// RabbitMQ on :5672, so the restart disturbs no other test running in parallel; what is exercised
// is the same — every connection is closed by the broker and durable queues come back from disk.
//  1. a worker whose broker stays away longer than --reconnect-timeout exits 3 in one line; started
//     again it finishes every message (unacked deliveries are requeued by RabbitMQ);
//  2. a worker spanning a restart reconnects and finishes every message (none lost);
//  3. a permanent refusal (the queue deleted under the worker) still stops it at once;
//  4. `queue bench` spanning the restart recovers and completes with a clean ledger (issue 11).
import {existsSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {killChildren, PrivateRabbit, completedSeqs, freePort, ledger, numbered, runQ, sleep, startCli, uniqueName, until, withBroker} from './harness.js'

const env = isolatedHome()
let rabbit: PrivateRabbit

beforeAll(async () => {
  rabbit = new PrivateRabbit(await freePort(), await freePort())
  await rabbit.start()
}, 300_000)
afterAll(async () => {
  killChildren()
  await rabbit?.stop()
}, 300_000)

describe.skipIf(!PrivateRabbit.available())('RabbitMQ restart (private node, stop_app/start_app)', () => {
  it('worker loses the broker for longer than --reconnect-timeout: exit 3 in one line; restarted, it completes every message (none lost)', async () => {
    const queue = uniqueName('restart')
    await withBroker(rabbit.url, (b) => b.createQueue(queue))
    const before = 1500
    const after = 500
    const enq = await runQ(['enqueue', queue, '--url', rabbit.url], {env, input: numbered(0, before)})
    expect(enq.code, enq.stderr).toBe(0)

    const a = startCli(['work', queue, '--url', rabbit.url, '--echo', '--json', '--delay-ms', '50', '--concurrency', '2', '--reconnect-timeout', '2s'], env)
    await until(() => completedSeqs(a.stdout()).length >= 150, 'worker A to complete 150', 60_000)
    const stopAt = Date.now()
    await rabbit.stopApp()
    const aExit = await a.exited
    const exitedAfterMs = Date.now() - stopAt
    expect(aExit.code, a.stderr()).toBe(3)
    expect(a.stdout() + a.stderr()).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/)
    await rabbit.startApp()
    const fromA = completedSeqs(a.stdout())
    expect(fromA.length, 'worker A was stopped mid-run').toBeLessThan(before)

    const enq2 = await runQ(['enqueue', queue, '--url', rabbit.url], {env, input: numbered(before, before + after)})
    expect(enq2.code, enq2.stderr).toBe(0)
    const b = await runQ(['work', queue, '--url', rabbit.url, '--echo', '--json', '--concurrency', '16', '--until-empty'], {env, timeoutMs: 120_000})
    expect(b.code, b.stderr).toBe(0)
    const book = ledger(before + after, [...fromA, ...completedSeqs(b.stdout)])
    console.log(`[reliability] rabbitmq-restart work: ${JSON.stringify({...book, lost: book.lost.length, fromA: fromA.length, workerExitMs: exitedAfterMs})}`)
    expect(book.lost).toEqual([])
    expect(book.duplicated).toBeLessThanOrEqual(16)
  }, 240_000)

  it('worker across a RabbitMQ restart reconnects and completes every message (none lost)', async () => {
    const queue = uniqueName('rework')
    await withBroker(rabbit.url, (b) => b.createQueue(queue))
    const before = 2000
    const after = 500
    const enq = await runQ(['enqueue', queue, '--url', rabbit.url], {env, input: numbered(0, before)})
    expect(enq.code, enq.stderr).toBe(0)
    const w = startCli(['work', queue, '--url', rabbit.url, '--echo', '--json', '--delay-ms', '20', '--concurrency', '4', '--until-empty'], env)
    await until(() => completedSeqs(w.stdout()).length >= 150, 'the worker to complete 150', 60_000)
    await rabbit.stopApp()
    const atStop = completedSeqs(w.stdout()).length
    await sleep(1000)
    await rabbit.startApp()
    const enq2 = await runQ(['enqueue', queue, '--url', rabbit.url], {env, input: numbered(before, before + after)})
    expect(enq2.code, enq2.stderr).toBe(0)
    const exit = await w.exited
    expect(exit.code, w.stderr().slice(-800)).toBe(0)
    expect(atStop, 'the worker had finished before the stop: no restart was tested').toBeLessThan(before)
    const book = ledger(before + after, completedSeqs(w.stdout()))
    const reconnects = w.stdout().split('\n').filter((l) => l.includes('"event":"reconnected"')).length
    console.log(`[reliability] rabbitmq-restart work across: ${JSON.stringify({...book, lost: book.lost.length, atStop, reconnects})}`)
    expect(book.lost).toEqual([])
    expect(reconnects, 'a "reconnected" event').toBeGreaterThanOrEqual(1)
    // the dead channel's deliveries (running, buffered: prefetch 4) are redelivered: they may run twice
    expect(book.duplicated).toBeLessThanOrEqual(8)
    expect(w.stdout() + w.stderr()).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/)
  }, 240_000)

  it('a permanent refusal still stops at once: the queue deleted under a worker ends it in one line, exit 3', async () => {
    const queue = uniqueName('gone')
    await withBroker(rabbit.url, (b) => b.createQueue(queue))
    const w = startCli(['work', queue, '--url', rabbit.url, '--echo'], env)
    await until(async () => (await rabbit.ctl('list_consumers', 'queue_name')).includes(queue), 'the worker to consume', 60_000, 500)
    const deletedAt = Date.now()
    await withBroker(rabbit.url, (b) => b.deleteQueue(queue))
    const exit = await w.exited
    const tookMs = Date.now() - deletedAt
    expect(exit.code, w.stderr()).toBe(3)
    expect(tookMs, 'stopped without waiting out --reconnect-timeout (60 s)').toBeLessThan(15_000)
    // the command's own error line says what happened (after the worker's `error:` event line), no stack
    expect(w.stderr().trim().split('\n').at(-1), w.stderr()).toMatch(/stopped working .*cancelled the consumer/)
    expect(w.stderr()).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/)
  }, 120_000)

  it('queue bench across a RabbitMQ restart recovers and completes: lost 0, duplicates counted', async () => {
    const out = join(tmpdir(), `${uniqueName('bench')}.json`)
    const rate = 200
    const seconds = 40
    const bench = startCli(
      ['bench', '--url', rabbit.url, '--rate', `${rate}/s`, '--duration', `${seconds}s`, '--drain', '30s', '--out', out, '--json'],
      env,
    )
    // the stop lands mid-run: once the bench queue exists, a few seconds on
    await until(async () => (await rabbit.ctl('list_queues', 'name')).includes('queuectl-bench'), 'the bench to start', 90_000, 500)
    let benchDone = false
    void bench.exited.then(() => (benchDone = true))
    await sleep(3000)
    await rabbit.stopApp()
    // rabbitmqctl is slow on a loaded machine: the premise is a stop that lands while the bench runs
    expect(benchDone, 'the broker stopped only after the bench had finished: no restart was tested').toBe(false)
    await sleep(1000)
    await rabbit.startApp()
    const exit = await bench.exited
    expect(existsSync(out), `bench wrote no result (exit ${exit.code}): ${bench.stderr().slice(-800)} ${bench.stdout().slice(-800)}`).toBe(true)
    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number>
    console.log(`[reliability] rabbitmq-restart bench: ${JSON.stringify({sent: result.sent, processed: result.processed, lost: result.lost, duplicates: result.duplicates, resent: result.resent ?? 0, errors: result.errors, lastError: result.lastError, exit: exit.code})}`)
    expect(exit.code, bench.stderr().slice(-800)).toBe(0)
    expect(result.lost).toBe(0)
    // processed counts unique messages: every one sent, once or more
    expect(result.processed).toBe(result.sent)
    // at-least-once: the dead channel's deliveries (running and prefetched: 64 + 64) and the
    // unconfirmed part of a re-sent batch (100 each) may come twice
    expect(result.duplicates).toBeLessThanOrEqual(128 + 100 * (result.resent ?? 0))
    expect(result.sent, `only ${result.sent} of ${rate * seconds} sent: the bench did not recover after RabbitMQ came back`).toBeGreaterThan(rate * seconds * 0.6)
  }, 180_000)
})
