// `queue metrics` end to end: --once on every server broker, and the HTTP endpoint serving
// several contexts at once while one of them hangs (a scrape must not wait on it).
import {spawn} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {BIN, isolatedHome, runCli} from '../helpers/cli.js'
import {open, targets, type OpsTarget} from '../ops/targets.js'

const home = isolatedHome()
const env = {...home, AWS_EC2_METADATA_DISABLED: 'true'}
const made: {t: OpsTarget; q: string}[] = []
afterAll(async () => {
  await Promise.allSettled(made.map(({t, q}) => t.drop(q)))
}, 120_000)

async function freshWith(t: OpsTarget, n: number): Promise<string> {
  const q = await t.fresh('metrics')
  made.push({t, q})
  const b = await open(t.url())
  try {
    await b.enqueue(q, [...Array(n)].map((_, i) => ({payload: JSON.stringify({i})})))
  } finally {
    await b.close()
  }
  return q
}

/** The value of one series in an exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

describe.each(targets())('queue metrics --once on $name', (t) => {
  it('prints depth by state per queue and broker, and the broker is up', async () => {
    const q = await freshWith(t, 3)
    const r = await runCli(['metrics', '--once', '--url', t.url(), '--queue', q], {env})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(sample(r.stdout, 'queuectl_queue_messages', {queue: q, state: 'waiting'})).toBe(3)
    expect(sample(r.stdout, 'queuectl_broker_up', {})).toBe(1)
    expect(sample(r.stdout, 'queuectl_broker_stale', {})).toBe(0)
    expect(r.stdout).not.toMatch(/guest:guest|testsecret/)
  }, 120_000)
})

describe('queue metrics --listen', () => {
  it('serves every named context; a hung broker is marked stale and never blocks a scrape', async () => {
    const rabbit = targets().find((x) => x.name === 'rabbitmq')!
    const q = await freshWith(rabbit, 2)
    // a "broker" that accepts connections and never answers
    const held: Socket[] = []
    const hole = createServer((s) => void held.push(s.on('error', () => {})))
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    const holePort = (hole.address() as {port: number}).port
    mkdirSync(join(home.XDG_CONFIG_HOME, 'queuectl'), {recursive: true})
    writeFileSync(
      join(home.XDG_CONFIG_HOME, 'queuectl', 'config.json'),
      JSON.stringify({contexts: {rabbit: {url: rabbit.url()}, hung: {url: `redis://127.0.0.1:${holePort}/0`}}}),
    )
    const child = spawn(process.execPath, [BIN, 'metrics', 'rabbit', 'hung', '--listen', '127.0.0.1:0', '--queue', q, '--interval', '500ms', '--poll-timeout', '20s', '--timeout', '20s'], {
      env: {...process.env, NO_COLOR: '1', QUEUE_URL: '', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    try {
      const until = Date.now() + 30_000
      let port: number | undefined
      while (!port && Date.now() < until) {
        port = Number(/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr)?.[1]) || undefined
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(port, stderr).toBeDefined()
      // the hung broker holds its poll for up to 20 s; scrapes must answer long before that
      let text = ''
      while (Date.now() < until) {
        const started = Date.now()
        const res = await fetch(`http://127.0.0.1:${port}/metrics`, {signal: AbortSignal.timeout(10_000)})
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toMatch(/text\/plain/)
        text = await res.text()
        expect(Date.now() - started).toBeLessThan(10_000)
        if (sample(text, 'queuectl_queue_messages', {broker: 'rabbit', queue: q, state: 'waiting'}) === 2) break
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      expect(sample(text, 'queuectl_queue_messages', {broker: 'rabbit', queue: q, state: 'waiting'})).toBe(2)
      expect(sample(text, 'queuectl_broker_up', {broker: 'rabbit'})).toBe(1)
      expect(sample(text, 'queuectl_broker_stale', {broker: 'rabbit'})).toBe(0)
      expect(sample(text, 'queuectl_broker_up', {broker: 'hung'})).toBe(0)
      expect(sample(text, 'queuectl_broker_stale', {broker: 'hung'})).toBe(1)
      const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      expect(await health.text()).toBe('ok\n')
    } finally {
      const exited = new Promise((resolve) => child.on('close', resolve))
      child.kill('SIGTERM')
      await exited
      for (const s of held) s.destroy()
      await new Promise((resolve) => hole.close(resolve))
    }
    expect(child.exitCode ?? child.signalCode).toBe(143)
  }, 120_000)

  it('refuses a malformed --listen (exit 2) and an unknown context (exit 4)', async () => {
    const bad = await runCli(['metrics', '--listen', 'nonsense', '--url', 'memory://'], {env})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--listen "nonsense" is not host:port/)
    const unknown = await runCli(['metrics', 'no-such-context', '--once'], {env})
    expect(unknown.code).toBe(4)
    expect(unknown.stderr).toMatch(/context "no-such-context" not found/)
  }, 60_000)
})
