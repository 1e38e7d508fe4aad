// `queue work` end to end through bin/run.js. The embedded broker lives in one process, so these
// runs use --demo (its built-in producer feeds memory://) to have something to consume.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {runAndInterrupt} from '../bench/interrupt.js'

const dir = mkdtempSync(join(tmpdir(), 'queuectl-work-e2e-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const env = isolatedHome()
const events = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
const calm = ['--fail-rate', '0', '--delay-ms', '0']

// several CLI runs per test: generous on a loaded 2-core CI machine
describe('queue work', {timeout: 180_000}, () => {
  it('refuses a handler file that throws at import: one line, exit 2', async () => {
    const bad = file('throws.mjs', 'throw new Error("missing API key")\n')
    const r = await runCli(['work', 'emails', '--url', 'memory://', '--handler', bad], {env})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/failed to load: missing API key/)
  })

  it('asks for a handler when none is chosen, and for a queue when none is named', async () => {
    const r = await runCli(['work', 'emails', '--url', 'memory://'], {env})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--handler .* --exec .* --echo/)
    const q = await runCli(['work', '--echo', '--url', 'memory://'], {env})
    expect(q.code).toBe(2)
    expect(q.stderr).toMatch(/no queue given/)
  })

  it('works the demo queue and streams NDJSON events ending with a summary', async () => {
    const r = await runCli(['work', '--demo', '--max-jobs', '6', '--concurrency', '3', '--json', ...calm], {env})
    expect(r.code).toBe(0)
    const all = events(r.stdout)
    expect(all.filter((e) => e.event === 'completed')).toHaveLength(6)
    expect(all.at(-1)).toMatchObject({event: 'summary', completed: 6, reason: 'max-jobs'})
    expect(all.find((e) => e.event === 'completed')?.payload).toMatch(/"demo":/)
  })

  it('times out a hanging handler, retries it, then dead-letters it (counted)', async () => {
    const hang = file('hang.mjs', 'export default () => new Promise(() => {})\n')
    const r = await runCli(
      ['work', '--demo', '--handler', hang, '--job-timeout', '150ms', '--max-attempts', '2', '--backoff', '10ms', '--max-jobs', '4', '--concurrency', '2', '--json', ...calm],
      {env},
    )
    expect(r.code).toBe(0)
    const all = events(r.stdout)
    expect(all.filter((e) => e.event === 'failed').every((e) => /timed out after 150ms/.test(String(e.error)))).toBe(true)
    // the first job is always a first attempt, so at least one retry; each failure retries or dies
    const retrying = all.filter((e) => e.event === 'retrying')
    const dead = all.filter((e) => e.event === 'dead')
    expect(retrying.length).toBeGreaterThanOrEqual(1)
    expect(retrying.length + dead.length).toBe(4)
    expect(dead.every((e) => e.attempt === 2 && e.deadLettered === true)).toBe(true)
    expect(all.at(-1)).toMatchObject({event: 'summary', failed: 4, completed: 0, dead: dead.length, retried: retrying.length})
  })

  it('runs a TypeScript handler and an --exec command', async () => {
    const ts = file('upper.ts', 'export default (job: {message: {payload: Buffer}}): string => job.message.payload.toString().toUpperCase()\n')
    const t = await runCli(['work', '--demo', '--handler', ts, '--max-jobs', '2', ...calm], {env})
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/2 completed, 0 failed/)
    const e = await runCli(['work', '--demo', '--exec', 'grep -q demo && exit 7', '--max-attempts', '1', '--max-jobs', '2', '--json', ...calm], {env})
    expect(e.code).toBe(0)
    const all = events(e.stdout)
    expect(all.filter((x) => x.event === 'failed').map((x) => x.error)).toEqual(['command exited with code 7', 'command exited with code 7'])
  })

  it('on Ctrl-C finishes running jobs, prints the summary and exits 130', async () => {
    const r = await runAndInterrupt(['work', '--demo', '--delay-ms', '400', '--fail-rate', '0', '--concurrency', '2', '--echo'], /attempt 1/, {
      env,
      afterReadyMs: 300,
    })
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/SIGINT: finishing/)
    expect(r.stdout).toMatch(/demo: \d+ completed, 0 failed .* stopped/)
  })
})
