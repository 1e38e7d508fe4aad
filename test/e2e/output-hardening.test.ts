// Issue 21, the output side, through the built CLI: broker bytes reach no terminal raw, numbers out
// of range are usage errors, the audit log stays NDJSON, a password leaves the process title once
// parsed, and ioredis' own words (ready-check warning, "max retries per request") never show.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {checkAuditLog, isolatedHome} from '../helpers/cli.js'
import {PrivateRedis, freePort, runQ, sleep, startCli, killChildren, uniqueName, until} from '../reliability/harness.js'

const PASSWORD = 'Hx9-pr0cTitle'
const redis = new PrivateRedis(0, PASSWORD)
const home = isolatedHome()
const env = {...home}
// OSC 52 (clipboard), CSI 2J (clear), BEL, C1 CSI, a bidi override, DEL
const NASTY = '\u001b]52;c;aGk=\u0007|\u001b[2J|\u0007|\u009b31m|\u202eevil|\u007f'
// anything a terminal would act on (NO_COLOR is set: not even our colours)
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

beforeAll(async () => {
  ;(redis as {port: number}).port = await freePort()
  await redis.start()
})
afterAll(async () => {
  killChildren()
  await redis.stop()
})

function noRaw(r: {stdout: string; stderr: string}, what: string): void {
  expect(r.stdout, `${what}: stdout`).not.toMatch(RAW)
  expect(r.stderr, `${what}: stderr`).not.toMatch(RAW)
}

describe('terminal escapes in broker bytes', () => {
  it('inspect --peek, work --echo, the queue listing and not-found errors show them escaped; --json keeps them exact', async () => {
    const U = redis.url
    const q = `list:esc-${NASTY}`
    const text = `text ${NASTY}`
    const json = JSON.stringify({t: NASTY})
    expect((await runQ(['enqueue', q, text, '--url', U], {env})).code).toBe(0)
    expect((await runQ(['enqueue', q, json, '--url', U], {env})).code).toBe(0)

    const listing = await runQ(['inspect', '--url', U], {env})
    expect(listing.code).toBe(0)
    noRaw(listing, 'queue listing')
    expect(listing.stdout).toContain('esc-\\x1b]52;c;aGk=\\x07')

    const peek = await runQ(['inspect', q, '--peek', '5', '--raw', '--url', U], {env})
    expect(peek.code).toBe(0)
    noRaw(peek, 'inspect --peek')
    expect(peek.stdout).toContain('\\x1b[2J')

    const peekJson = await runQ(['inspect', q, '--peek', '5', '--json', '--url', U], {env})
    noRaw(peekJson, 'inspect --json')
    const messages = (JSON.parse(peekJson.stdout) as {messages: {payload?: string}[]}).messages
    expect(messages.map((m) => m.payload)).toContain(text) // exact bytes, JSON-escaped

    const exported = await runQ(['export', q, '--url', U], {env})
    noRaw(exported, 'export')
    expect(exported.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {payload: string}).payload)).toContain(text)

    const missing = await runQ(['inspect', `list:nope-${NASTY}`, '--url', U], {env})
    expect(missing.code).toBe(4)
    noRaw(missing, 'not-found error')
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)

    const work = await runQ(['work', q, '--echo', '--until-empty', '--url', U], {env})
    expect(work.code).toBe(0)
    noRaw(work, 'work --echo')
    expect(work.stdout).toContain('\\u202eevil')

    expect((await runQ(['enqueue', q, text, '--url', U], {env})).code).toBe(0)
    const workJson = await runQ(['work', q, '--echo', '--json', '--until-empty', '--url', U], {env})
    noRaw(workJson, 'work --echo --json')
    const completed = workJson.stdout.trim().split('\n').map((l) => JSON.parse(l) as {event: string; payload?: string}).find((e) => e.event === 'completed')
    expect(completed?.payload).toBe(text)
  }, 60_000)
})

describe('numbers out of range are usage errors (exit 2, one line)', () => {
  it.each([
    [['inspect', 'list:x', '--peek', '99999999999999999999'], /--peek 100000000000000000000 is out of range — give a whole number from 0 to 2147483647/],
    [['wait', 'list:x', '--timeout', '99999999999999999999d'], /--timeout "99999999999999999999d" is too long/],
    [['wait', 'list:x', '--interval', '30d'], /--interval "30d" is too long — the most is 24d20h31m23s/],
    [['inspect', 'list:x', '--peek', '-1'], /--peek/],
    [['inspect', 'list:x', '--peek', 'NaN'], /--peek/],
    [['bench', '--count', '-5'], /--count/],
    [['enqueue', 'list:x', '1', '--priority', '99999999999999999999'], /--priority .* out of range/],
  ])('queue %s', async (args, message) => {
    const r = await runQ([...args, '--url', 'redis://127.0.0.1:1'], {env})
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning|internal error/)
  })

  it('a long threshold is no timer: inspect --max-age 30d is accepted', async () => {
    const r = await runQ(['inspect', 'list:none', '--max-age', '30d', '--url', redis.url], {env})
    expect(r.stderr).not.toMatch(/too long/)
  })
})

describe('the audit log', () => {
  it('stays one JSON line a command when move goes from a URL without user@ to a --to-url with one', async () => {
    const h = isolatedHome()
    const src = `list:${uniqueName('audit-src')}`
    const shared = 'redis://127.0.0.1:6379/0'
    expect((await runQ(['enqueue', src, '{"a":1}', '--count', '3', '--url', shared], {env: h})).code).toBe(0)
    const r = await runQ(['move', src, 'list:audit-dst', '--to-url', redis.url, '--create', '--yes', '--url', shared], {env: h})
    expect(r.code, r.stderr).toBe(0)
    const lines = readFileSync(join(h.XDG_STATE_HOME, 'queuectl', 'audit.log'), 'utf8').trim().split('\n')
    const last = JSON.parse(lines.at(-1)!) as {url: string; queue: string; counts: {moved: number}; details: {to: string; toUrl: string}}
    expect(last).toMatchObject({url: shared, queue: src, counts: {moved: 3}, details: {to: 'list:audit-dst', toUrl: `redis://:***@127.0.0.1:${redis.port}`}})
    expect(lines.join('\n')).not.toContain(PASSWORD)
  })

  it('the check every runCli does (and the setup file after each file) refuses a corrupt line', () => {
    const h = isolatedHome()
    mkdirSync(join(h.XDG_STATE_HOME, 'queuectl'), {recursive: true})
    const path = join(h.XDG_STATE_HOME, 'queuectl', 'audit.log')
    writeFileSync(path, `${JSON.stringify({command: 'purge', url: 'redis://h', queue: 'q', counts: {}})}\n`)
    expect(() => checkAuditLog(h)).not.toThrow()
    writeFileSync(path, '{"command":"move","url":"redis://127.0.0.1:***@127.0.0.1:5672/nc"}\n')
    expect(() => checkAuditLog(h)).toThrow(/has no "queue"/)
    writeFileSync(path, '{"command":"move","url":"redis://127.0.0.1:***@127.0.0.1:5672/nc"},"queue":"q"}\n')
    expect(() => checkAuditLog(h)).toThrow(/is not JSON/)
    writeFileSync(path, '')
  })
})

describe('a password leaves the process title once parsed', () => {
  it('/proc/PID/cmdline of a running `queue wait` shows the URL masked', async () => {
    if (process.platform !== 'linux') return
    const q = `list:${uniqueName('title')}`
    // wait refuses a queue that does not exist (exit 4): the queue is there first
    expect((await runQ(['enqueue', q, '{}', '--url', redis.url], {env})).code).toBe(0)
    const run = startCli(['wait', q, '--until', 'depth>100', '--timeout', '20s', '--url', redis.url], env)
    try {
      const cmdline = await until(async () => {
        await sleep(200)
        const text = readFileSync(`/proc/${run.child.pid}/cmdline`, 'utf8')
        return text.includes('***') ? text : undefined
      }, 'the masked process title', 15_000)
      expect(cmdline).not.toContain(PASSWORD)
      expect(cmdline).not.toContain(encodeURIComponent(PASSWORD))
      expect(cmdline).toContain(`redis://:***@127.0.0.1:${redis.port}`)
    } finally {
      run.child.kill('SIGKILL')
      await run.exited
    }
  }, 30_000)
})

describe("ioredis' own words never reach the user", () => {
  it('an ACL user without INFO gets no "Skipping the ready check" warning', async () => {
    await redis.cli('ACL', 'SETUSER', 'noinfo', 'on', '>N0info-pw', '~*', '&*', '+@all', '-info')
    const r = await runQ(['inspect', '--url', `redis://noinfo:N0info-pw@127.0.0.1:${redis.port}`], {env})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/ready check|enableReadyCheck|wiki/)
  })

  it('a Redis crash mid-move is one line "lost the connection to redis://… mid-command", exit 3', async () => {
    const crash = new PrivateRedis(await freePort())
    await crash.start()
    try {
      const src = `list:${uniqueName('crash')}`
      const lines = Array.from({length: 30_000}, (_, i) => JSON.stringify({i})).join('\n')
      expect((await runQ(['enqueue', src, '--url', crash.url], {env, input: lines})).code).toBe(0)
      const move = startCli(['move', src, 'list:crash-dst', '--create', '--yes', '--batch-size', '50', '--url', crash.url], env)
      await until(async () => Number(await crash.cli('LLEN', 'crash-dst').catch(() => '0')) > 100, 'the move to start', 20_000, 20)
      await crash.kill('SIGKILL')
      const {code} = await move.exited
      expect(code, move.stderr()).toBe(3)
      expect(move.stderr()).not.toMatch(/max retries|maxRetriesPerRequest|which is 0/)
      expect(move.stderr().trim().split('\n'), move.stderr()).toHaveLength(1)
      expect(move.stderr()).toMatch(new RegExp(`lost the connection to redis://127\\.0\\.0\\.1:${crash.port}`))
    } finally {
      await crash.stop()
    }
  }, 90_000)
})
