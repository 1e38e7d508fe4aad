// The ops commands end to end through bin/run.js, on every server broker: Redis (list and BullMQ),
// RabbitMQ and SQS on the emulator — purge, move, import and wait with their bad inputs.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {auditLines, dropQueuesAfterAll, env, fill, fresh, home, waiting} from '../ops/e2e-helpers.js'
import {counts, eventually, targets} from '../ops/targets.js'

dropQueuesAfterAll()

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
    // with --json, one envelope: the result so far, and the error
    const json = await runCli(['wait', q, '--until', 'empty', '--timeout', '2s', '--interval', '200ms', '--url', t.url(), '--json'], {env})
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({queue: q, held: false, error: {exitCode: 1, kind: 'CheckFailedError', message: expect.stringMatching(/did not reach empty/)}})
    const held = await runCli(['wait', q, '--until', 'depth<3 and dead==0', '--timeout', '20s', '--url', t.url()], {env})
    expect(held.stderr).toBe('')
    expect(held.code).toBe(0)
    const bad = await runCli(['wait', q, '--until', 'depth<<3', '--url', t.url()], {env})
    expect(bad.code).toBe(2)
    const missing = await runCli(['wait', `${q}-missing`, '--url', t.url(), '--timeout', '20s'], {env})
    expect(missing.code).toBe(4)
  }, 180_000)
})
