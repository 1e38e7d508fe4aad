// The foundation end to end through bin/run.js: help, URL resolution, bad input → one line + exit code.
import {createServer} from 'node:net'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

const lines = (n: number, bad?: number) =>
  Array.from({length: n}, (_, i) => (i + 1 === bad ? '{"seq": 3,,}' : JSON.stringify({seq: i + 1}))).join('\n') + '\n'

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('queue --help', () => {
  it('lists the commands and exits 0', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/inspect/)
    expect(r.stdout).toMatch(/enqueue/)
    expect(r.stdout).toMatch(/context/)
  })

  it.each(['inspect', 'enqueue', 'context add', 'context use', 'context list', 'context remove'])('%s --help shows examples', async (cmd) => {
    const r = await runCli([...cmd.split(' '), '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/EXAMPLES/)
  })
})

describe('start-up', () => {
  it("loads no semver (oclif's engine check) and leaves OCLIF_DISABLE_ENGINE_WARNING as it was", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queuectl-startup-'))
    const hook = join(dir, 'hook.cjs')
    writeFileSync(
      hook,
      `const M = require('node:module'); const load = M._load; let semver = false
M._load = function (request) { if (request === 'semver') semver = true; return load.apply(this, arguments) }
process.on('exit', () => process.stderr.write('HOOK semver=' + semver + ' env=' + process.env.OCLIF_DISABLE_ENGINE_WARNING + '\\n'))`,
    )
    const r = await runCli(['enqueue', 'q', '{}', '--url', 'memory://'], {env: {...isolatedHome(), NODE_OPTIONS: `--require ${hook}`}})
    rmSync(dir, {recursive: true, force: true})
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/HOOK semver=false env=undefined/)
  })
})

describe('bad input: one line and the documented exit code', () => {
  const home = isolatedHome()

  it('an unknown scheme is a usage error listing the supported ones (exit 2)', async () => {
    const r = await runCli(['inspect', '--url', 'mqtt://127.0.0.1:1883'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/unknown scheme "mqtt".*supported: memory, redis/)
  })

  it('a malformed URL is a usage error with an example (exit 2)', async () => {
    const r = await runCli(['inspect', '--url', 'not a url'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not a valid URL.*redis:\/\/127\.0\.0\.1:6379/)
  })

  it('no broker at all says how to give one (exit 2)', async () => {
    const r = await runCli(['inspect'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no broker given.*--url.*QUEUE_URL.*context add/)
  })

  it('a negative --delay is refused before anything is sent (exit 2)', async () => {
    const r = await runCli(['enqueue', 'q', '{}', '--delay', '-5s', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--delay "-5s" is negative/)
    expect(r.stdout).toBe('')
  })

  it('a --delay longer than a Node timer is kept (a job library stores the time, nothing waits on it)', async () => {
    const r = await runCli(['enqueue', 'q', '{}', '--delay', '40d', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).not.toBe('')
  })

  it('an empty queue name is refused (exit 2)', async () => {
    const r = await runCli(['enqueue', '', '{}', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/queue name is empty/)
  })

  it('line 3 of 10 on stdin is not JSON: nothing is sent and the error names line 3 (exit 2)', async () => {
    const r = await runCli(['enqueue', 'q', '--url', 'memory://'], {env: home, input: lines(10, 3)})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^Error: line 3 is not valid JSON.*nothing was sent/)
    expect(r.stdout).toBe('') // no ids: nothing was sent
  })

  it('a payload failing --schema names the line and the failing path; nothing is sent (exit 2)', async () => {
    const schema = join(home.HOME, 'schema.json')
    writeFileSync(schema, JSON.stringify({type: 'object', properties: {seq: {type: 'integer', maximum: 5}}, required: ['seq']}))
    const r = await runCli(['enqueue', 'q', '--schema', schema, '--url', 'memory://'], {env: home, input: lines(10)})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/line 6 fails the schema at \/seq must be <= 5/)
    expect(r.stdout).toBe('')
  })

  it('inspect of a queue that does not exist is exit 4', async () => {
    const r = await runCli(['inspect', 'nope', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/queue "nope" not found on memory:\/\//)
  })

  it('a host that refuses is exit 3 quickly, not a hang', async () => {
    const port = await closedPort()
    const r = await runCli(['inspect', '--url', `redis://127.0.0.1:${port}`, '--timeout', '3s'], {env: home})
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.ms).toBeLessThan(15_000)
  })

  it('a password in a URL never reaches the output, even in errors', async () => {
    const port = await closedPort()
    for (const url of [`redis://admin:Sup3rSecretPw@127.0.0.1:${port}`, `amqp://admin:Sup3rSecretPw@127.0.0.1:${port}/`, 'kafka://admin:Sup3rSecretPw@x']) {
      const r = await runCli(['inspect', '--url', url, '--timeout', '2s'], {env: {...home, DEBUG: 'queuectl'}})
      expect(r.code).not.toBe(0)
      expect(r.stdout + r.stderr).not.toContain('Sup3rSecretPw')
      expect(r.stderr).toMatch(/^Error: .*(127\.0\.0\.1|\*\*\*)/) // still says which broker
    }
  })

  it('errors are a JSON envelope with --json', async () => {
    const r = await runCli(['inspect', 'nope', '--url', 'memory://', '--json'], {env: home})
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {exitCode: 4}})
  })

  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await runCli(['inspect', '--no-such-flag', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(2)
  })
})

describe('connections: --url > QUEUE_URL > current context', () => {
  it('context add/use/list keep URLs and show them redacted', {timeout: 120_000}, async () => {
    const home = isolatedHome()
    let r = await runCli(['context', 'add', 'mem', 'memory://'], {env: home})
    expect(r.code).toBe(0)
    r = await runCli(['context', 'add', 'secret', 'redis://u:Hunter2Pw@127.0.0.1:6379'], {env: home})
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('Hunter2Pw')
    r = await runCli(['context', 'list', '--json'], {env: home})
    const listed = JSON.parse(r.stdout)
    expect(listed.current).toBe('mem')
    expect(JSON.stringify(listed)).not.toContain('Hunter2Pw')
    expect(listed.contexts.map((c: {name: string}) => c.name)).toEqual(['mem', 'secret'])
    // the current context is used when nothing else is given
    r = await runCli(['inspect', '--json'], {env: home})
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).broker).toBe('memory://')
    // QUEUE_URL beats the current context; --url beats QUEUE_URL
    r = await runCli(['inspect', '--json'], {env: {...home, QUEUE_URL: 'memory://fromenv'}})
    expect(JSON.parse(r.stdout).broker).toBe('memory://fromenv')
    r = await runCli(['inspect', '--json', '--url', 'memory://fromflag'], {env: {...home, QUEUE_URL: 'memory://fromenv'}})
    expect(JSON.parse(r.stdout).broker).toBe('memory://fromflag')
    r = await runCli(['context', 'use', 'nosuch'], {env: home})
    expect(r.code).toBe(4)
    r = await runCli(['context', 'remove', 'secret'], {env: home})
    expect(r.code).toBe(0)
  })
})

describe('enqueue on the embedded broker', () => {
  it('prints one id per message, NDJSON with --json', async () => {
    const r = await runCli(['enqueue', 'q', '--url', 'memory://', '--json'], {env: isolatedHome(), input: lines(5)})
    expect(r.code).toBe(0)
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(out).toHaveLength(5)
    expect(new Set(out.map((o: {id: string}) => o.id)).size).toBe(5)
  })

  it('--count repeats the payload', async () => {
    const r = await runCli(['enqueue', 'q', 'hello', '--count', '3', '--url', 'memory://'], {env: isolatedHome()})
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(3)
  })
})
