// The ops commands end to end through bin/run.js, on every server broker: Redis (list and BullMQ),
// RabbitMQ and SQS on the emulator. Each test makes its own queues and drops them.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {counts, eventually, makeDead, open, targets, type OpsTarget} from '../ops/targets.js'

const home = isolatedHome()
const env = {...home, AWS_EC2_METADATA_DISABLED: 'true'}
const made: {t: OpsTarget; q: string}[] = []
afterAll(async () => {
  await Promise.allSettled(made.map(({t, q}) => t.drop(q)))
}, 120_000)

async function fresh(t: OpsTarget, hint: string): Promise<string> {
  const q = await t.fresh(hint)
  made.push({t, q})
  return q
}

async function fill(t: OpsTarget, q: string, n: number, name = 'job'): Promise<void> {
  const b = await open(t.url())
  try {
    await b.enqueue(q, [...Array(n)].map((_, i) => ({payload: JSON.stringify({seq: i}), name, contentType: 'application/json'})))
  } finally {
    await b.close()
  }
}

function auditLines(): Record<string, unknown>[] {
  const path = join(home.XDG_STATE_HOME, 'queuectl', 'audit.log')
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  } catch {
    return []
  }
}

const waiting = async (t: OpsTarget, q: string) => (await counts(t.url(), q)).waiting ?? 0

describe.each(targets())('ops on $name', (t) => {
  it('purge: without --yes off a terminal exits 2 and removes nothing; --dry-run counts; --yes removes and audits', async () => {
    const q = await fresh(t, 'purge')
    await fill(t, q, 3)
    const refused = await runCli(['purge', q, '--url', t.url()], {env})
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/without confirmation.*nothing was changed.*--yes/)
    expect(await waiting(t, q)).toBe(3)
    const dry = await runCli(['purge', q, '--url', t.url(), '--dry-run'], {env})
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/would remove 3 waiting messages/)
    expect(await waiting(t, q)).toBe(3)
    const done = await runCli(['purge', q, '--url', t.url(), '--yes', '--json'], {env})
    expect(done.code).toBe(0)
    expect(JSON.parse(done.stdout)).toMatchObject({queue: q, state: 'waiting', removed: 3})
    await eventually(async () => (await waiting(t, q)) === 0, 10_000, 'an empty queue')
    const line = auditLines().find((l) => l.command === 'purge' && l.queue === q)
    expect(line).toMatchObject({counts: {removed: 3}, details: {state: 'waiting'}})
    expect(String(line!.url)).not.toMatch(/guest:guest|testsecret/)
  }, 180_000)

  it('move: a missing destination is exit 4 before anything is touched; then every message moves', async () => {
    const src = await fresh(t, 'move-src')
    await fill(t, src, 25)
    const missing = await runCli(['move', src, `${src}-nowhere`, '--url', t.url(), '--yes'], {env})
    expect(missing.code).toBe(4)
    expect(missing.stderr).toMatch(/not found/)
    expect(await counts(t.url(), src)).toMatchObject({waiting: 25})
    const dst = await fresh(t, 'move-dst')
    const moved = await runCli(['move', src, dst, '--url', t.url(), '--yes', '--batch-size', '10', '--idle', '2s', '--json'], {env, timeoutMs: 90_000})
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    expect(JSON.parse(moved.stdout)).toMatchObject({moved: 25, failed: 0})
    await eventually(async () => (await waiting(t, dst)) === 25, 10_000, '25 at the destination')
    expect((await counts(t.url(), src)).waiting).toBe(0)
    expect(auditLines().find((l) => l.command === 'move' && l.queue === src)).toMatchObject({counts: {moved: 25, failed: 0}})
  }, 180_000)

  it('import: a truncated file imports every line before the bad one, names it, exits 1; --all-or-nothing imports nothing', async () => {
    const q = await fresh(t, 'import')
    const good = [...Array(4)].map((_, i) => JSON.stringify({name: 'imp', headers: {seq: String(i)}, payload: `{"i":${i}}`, contentType: 'application/json'}))
    const file = join(home.HOME, `trunc-${q.replace(/\W/g, '_')}.ndjson`)
    writeFileSync(file, `${good.join('\n')}\n{"name":"imp","payload":"{\\"i\\":`)
    const strict = await runCli(['import', q, '--url', t.url(), '--file', file, '--all-or-nothing'], {env})
    expect(strict.code).toBe(1)
    expect(strict.stderr).toMatch(/line 5: not valid JSON.*nothing was imported/)
    expect(await waiting(t, q)).toBe(0)
    const streamed = await runCli(['import', q, '--url', t.url(), '--batch-size', '2'], {env, input: readFileSync(file)})
    expect(streamed.code).toBe(1)
    expect(streamed.stderr).toMatch(/line 5: not valid JSON.*4 messages before it were imported/)
    await eventually(async () => (await waiting(t, q)) === 4, 10_000, '4 imported')
  }, 180_000)

  it('wait: exit 1 on timeout while messages wait, exit 0 once the queue is empty; a bad condition is exit 2', async () => {
    const q = await fresh(t, 'wait')
    await fill(t, q, 2)
    const timedOut = await runCli(['wait', q, '--until', 'empty', '--timeout', '3s', '--interval', '200ms', '--url', t.url()], {env})
    expect(timedOut.code).toBe(1)
    // on a loaded machine the first answer may come after the deadline: then the last error is shown
    expect(timedOut.stderr).toMatch(/did not reach empty within 3\.0s — last seen: (messages 2 \(want 0\)|last poll failed)/)
    const held = await runCli(['wait', q, '--until', 'depth<3 and dead==0', '--timeout', '20s', '--url', t.url()], {env})
    expect(held.stderr).toBe('')
    expect(held.code).toBe(0)
    const bad = await runCli(['wait', q, '--until', 'depth<<3', '--url', t.url()], {env})
    expect(bad.code).toBe(2)
    const missing = await runCli(['wait', `${q}-missing`, '--url', t.url(), '--timeout', '20s'], {env})
    expect(missing.code).toBe(4)
  }, 180_000)

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
    }, 15_000, '3 waiting, 0 dead')
    expect(auditLines().find((l) => l.command === 'retry' && l.queue === q)).toMatchObject({counts: {retried: 3}})
  }, 180_000)

  it('export: a peek leaves the queue as it was; --consume drains it', async () => {
    const q = await fresh(t, 'export')
    await fill(t, q, 5, 'exp')
    const peeked = await runCli(['export', q, '--url', t.url()], {env})
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
  it('--filter takes only matching messages and --limit caps them; the rest stay', async () => {
    const src = await fresh(t, 'filter-src')
    const dst = await fresh(t, 'filter-dst')
    await fill(t, src, 4, 'email')
    await fill(t, src, 3, 'sms')
    const r = await runCli(['move', src, dst, '--url', t.url(), '--yes', '--filter', 'name=="email"', '--limit', '3', '--idle', '2s', '--json'], {env, timeoutMs: 90_000})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({moved: 3, failed: 0})
    await eventually(async () => (await waiting(t, src)) === 4, 20_000, '4 left at the source')
    const out = await runCli(['export', dst, '--url', t.url()], {env})
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
