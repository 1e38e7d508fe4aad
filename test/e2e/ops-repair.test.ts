// The repair commands end to end through bin/run.js on every server broker: retry, export,
// move's finer options, and the help of every ops command.
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {auditLines, dropQueuesAfterAll, env, fill, fresh, waiting} from '../ops/e2e-helpers.js'
import {counts, eventually, makeDead, targets} from '../ops/targets.js'

dropQueuesAfterAll()

describe.each(targets())('repair on $name', (t) => {
  it('retry: dead messages go back to waiting; retrying all needs --yes off a terminal', async () => {
    const q = await fresh(t, 'retry')
    await makeDead(t.url(), q, 3)
    const refused = await runCli(['retry', q, '--url', t.url()], {env})
    expect(refused.code).toBe(2)
    expect((await counts(t.url(), q)).dead).toBe(3)
    const r = await runCli(['retry', q, '--url', t.url(), '--yes', '--idle', '2s', '--json'], {env, timeoutMs: 90_000})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({retried: 3})
    await eventually(async () => {
      const c = await counts(t.url(), q)
      return c.waiting === 3 && (c.dead ?? 0) === 0
    }, 20_000, '3 waiting, 0 dead')
    expect(auditLines().find((l) => l.command === 'retry' && l.queue === q)).toMatchObject({counts: {retried: 3}})
  }, 180_000)

  it('export: a peek leaves the queue as it was; --consume drains it', async () => {
    const q = await fresh(t, 'export')
    await fill(t, q, 5, 'exp')
    const peeked = await runCli(['export', q, '--url', t.url(), ...(t.peekFlags ?? [])], {env})
    expect(peeked.code).toBe(0)
    expect(peeked.stdout.trim().split('\n').map((l) => JSON.parse(l).name)).toEqual(['exp', 'exp', 'exp', 'exp', 'exp'])
    await eventually(async () => (await waiting(t, q)) === 5, 20_000, 'the 5 still waiting')
    const refused = await runCli(['export', q, '--url', t.url(), '--consume'], {env})
    expect(refused.code).toBe(2)
    const drained = await runCli(['export', q, '--url', t.url(), '--consume', '--yes', '--idle', '2s'], {env, timeoutMs: 90_000})
    expect(drained.code).toBe(0)
    expect(drained.stdout.trim().split('\n')).toHaveLength(5)
    await eventually(async () => (await waiting(t, q)) === 0, 10_000, 'a drained queue')
  }, 180_000)
})

describe.each(targets())('move details on $name', (t) => {
  it('--where takes only matching messages and --limit caps them; the rest stay', async () => {
    const src = await fresh(t, 'filter-src')
    const dst = await fresh(t, 'filter-dst')
    await fill(t, src, 4, 'email')
    await fill(t, src, 3, 'sms')
    const r = await runCli(['move', src, dst, '--url', t.url(), '--yes', '--where', 'name == "email"', '--limit', '3', '--idle', '2s', '--json'], {env, timeoutMs: 90_000})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({moved: 3, failed: 0})
    await eventually(async () => (await waiting(t, src)) === 4, 20_000, '4 left at the source')
    const out = await runCli(['export', dst, '--url', t.url(), ...(t.peekFlags ?? [])], {env})
    expect(out.stdout.trim().split('\n').map((l) => JSON.parse(l).name)).toEqual(['email', 'email', 'email'])
  }, 180_000)

  it('--from-state dead takes the dead letters where they have a queue of their own, and refuses clearly where not', async () => {
    const src = await fresh(t, 'dead-src')
    const dst = await fresh(t, 'dead-dst')
    await makeDead(t.url(), src, 2)
    const r = await runCli(['move', src, dst, '--from-state', 'dead', '--url', t.url(), '--yes', '--idle', '2s', '--json'], {env, timeoutMs: 90_000})
    if (t.name.startsWith('redis')) {
      // Redis keeps dead messages inside the queue's own keys: `queue retry` is the way
      expect(r.code).toBe(4)
      expect(JSON.parse(r.stdout)).toMatchObject({error: {exitCode: 4, message: expect.stringMatching(/use `queue retry/)}})
      expect((await counts(t.url(), src)).dead).toBe(2)
      return
    }
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({moved: 2})
    await eventually(async () => (await waiting(t, dst)) === 2 && (await counts(t.url(), src)).dead === 0, 20_000, 'dead letters moved')
  }, 180_000)

  it('refuses to move a queue onto itself (exit 2)', async () => {
    const q = await fresh(t, 'self')
    const r = await runCli(['move', q, q, '--url', t.url(), '--to-url', t.url(), '--yes'], {env})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/same queue/)
  }, 60_000)
})

describe('ops commands --help', () => {
  it.each(['wait', 'purge', 'retry', 'move', 'export', 'import', 'metrics'])('%s --help shows a summary and examples', async (cmd) => {
    const r = await runCli([cmd, '--help'], {env})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/EXAMPLES/)
    expect(r.stdout).toMatch(/USAGE/)
  }, 60_000)
})
