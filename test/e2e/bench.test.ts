// `queue bench` end to end through bin/run.js on the embedded broker (no server), including the
// README's quick-start form with no flags at all, and the bad inputs the issue lists.
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {runAndInterrupt} from '../bench/interrupt.js'

const env = isolatedHome()
const dir = mkdtempSync(join(tmpdir(), 'queuectl-bench-e2e-'))

// several CLI runs per test: generous on a loaded 2-core CI machine
describe('queue bench', {timeout: 180_000}, () => {
  it('with no flags runs a short closed loop on memory:// and proves no message was lost', async () => {
    const r = await runCli(['bench'], {env, timeoutMs: 60_000})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/queue bench {2}memory:\/\//)
    expect(r.stdout).toMatch(/latency p99\.9/)
    expect(r.stdout).toMatch(/every message accounted for: ([\d,]+) of \1 processed exactly once/)
  })

  it.each([
    [['--rate', '0'], /--rate 0 must be above zero/],
    [['--count', '10', '--duration', '5s'], /--count and --duration both given/],
    [['--size', '4B'], /16-byte header/],
    [['--agents', '2'], /needs a --run-id/],
    [['--agents', '2', '--run-id', 'r1'], /memory:\/\/ lives inside one process/],
    [['--compare', 'only-one.json'], /--compare takes two result files/],
    [['--persistent'], /^Error: --persistent: memory:\/\/ cannot honour it \(capability publish\.persistent: never on\) — drop --persistent/],
    [['--no-confirms'], /^Error: --no-confirms: memory:\/\/ cannot honour it \(capability publish\.confirms: always on\)/],
    [['--url', 'redis://127.0.0.1:6379', '--no-persistent'], /--no-persistent: redis:\/\/127\.0\.0\.1:6379 cannot honour it \(capability publish\.persistent: set by the server's configuration/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await runCli(['bench', ...args], {env})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(message)
  })

  it('--json prints the full result with the encoded histogram; --out saves it; --compare shows ratios', async () => {
    const a = join(dir, 'a.json')
    const b = join(dir, 'b.json')
    const r = await runCli(['bench', '--count', '20000', '--json', '--out', a], {env})
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as Record<string, any>
    expect(result).toMatchObject({format: 'queuectl-bench/1', sent: 20000, processed: 20000, lost: 0, duplicates: 0, partial: false})
    expect(result.latency.histogram).toMatch(/^[A-Za-z0-9+/=]+$/)
    expect(JSON.parse(readFileSync(a, 'utf8')).sent).toBe(20000)
    expect((await runCli(['bench', '--count', '10000', '--size', '1KiB', '--out', b], {env})).code).toBe(0)
    const c = await runCli(['bench', '--compare', a, b], {env})
    expect(c.code).toBe(0)
    expect(c.stdout).toMatch(/sent\s+20,000\s+10,000\s+0\.50×/)
  })

  it('--assert exits 1 naming the failing threshold and the measured value', async () => {
    const ok = await runCli(['bench', '--count', '5000', '--assert', 'lost=0', '--assert', 'throughput>1/s'], {env})
    expect(ok.code).toBe(0)
    const r = await runCli(['bench', '--count', '5000', '--assert', 'p99<0ms'], {env})
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/p99<0ms failed: latency p99 was [\d.]+ms/)
  })

  it('an open-loop run with a stepped rate reports every message', async () => {
    const r = await runCli(['bench', '--rate', '500:1500:500/500ms', '--json'], {env})
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as Record<string, any>
    expect(result.plan.mode).toBe('open')
    expect(result.sent).toBe(250 + 500 + 750)
    expect(result.lost).toBe(0)
  })

  it('on Ctrl-C prints a partial report, cleans up, and exits 130', async () => {
    const r = await runAndInterrupt(['bench', '--duration', '60s', '--work-ms', '1'], /^bench memory:/m, {env, afterReadyMs: 1000})
    expect(r.code).toBe(130)
    expect(Date.now() - r.signalledAt).toBeLessThan(20_000)
    expect(r.stdout).toMatch(/PARTIAL/)
    expect(r.stdout).toMatch(/processed/)
  })
})
