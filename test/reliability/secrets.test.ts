// A password in the connection URL must never come back out: not on stdout, not on stderr (one-line
// errors and DEBUG stacks alike), not in the audit log or any other file the CLI writes under its
// state directory. Every command runs here — on success paths against a private Redis that requires
// the password, and on failure paths (wrong password, refused port, malformed URL, unknown scheme,
// wrong AMQP password against the machine's RabbitMQ, SQS with an access key secret).
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {PrivateRedis, freePort, runQ, uniqueName} from './harness.js'

// a password with characters that need escaping in a URL, so both spellings are checked
const SECRET = 'Zq7s3cr3t@/pw'
const SECRET_URL = encodeURIComponent(SECRET) // Zq7s3cr3t%40%2Fpw
const WRONG = 'Wr0ngPa55-kq9'
const AWS_SECRET = 'AwsS3cretKey0123456789'
const NEEDLES = [SECRET, SECRET_URL, 'Zq7s3cr3t', WRONG, AWS_SECRET]

const home = isolatedHome()
const redis = new PrivateRedis(0, SECRET)
const seen: {args: string[]; code: number | null; ms: number}[] = []

function leaks(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n))
}

/** Every file under a directory, recursively (the state dir: audit log, spools, logs). */
function filesUnder(dir: string): string[] {
  let out: string[] = []
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of names) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out = out.concat(filesUnder(path))
    else out.push(path)
  }
  return out
}

/** Runs the jobs `width` at a time (these runs are independent: failure paths, no shared queue). */
async function pool(jobs: (() => Promise<unknown>)[], width: number): Promise<void> {
  let next = 0
  await Promise.all(Array.from({length: width}, async () => {
    while (next < jobs.length) await jobs[next++]!()
  }))
}

async function q(args: string[], expected: number[], extra: {env?: Record<string, string>; input?: string} = {}): Promise<string> {
  const r = await runQ(args, {env: {...home, ...extra.env}, input: extra.input, timeoutMs: 90_000})
  seen.push({args, code: r.code, ms: r.ms})
  const found = leaks(r.stdout + r.stderr)
  expect(found, `queue ${args.join(' ')} printed a secret:\n${r.stdout}\n${r.stderr}`).toEqual([])
  expect(expected, `queue ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(0, 600)}`).toContain(r.code)
  expect(r.stderr, `queue ${args.join(' ')}: an internal error`).not.toMatch(/internal error|this is a bug/)
  return r.stdout
}

beforeAll(async () => {
  ;(redis as {port: number}).port = await freePort()
  await redis.start()
})
afterAll(() => redis.stop())

describe('secrets: a password in the URL appears in no output, error, log or audit line', () => {
  it('every command on its success path (Redis with requirepass)', async () => {
    const U = `redis://:${SECRET_URL}@127.0.0.1:${redis.port}`
    const base = uniqueName('sec')
    const src = `list:${base}`
    await q(['enqueue', src, '{"a":1}', '--url', U], [0])
    await q(['enqueue', src, '{"b":2}', '--count', '5', '--url', U, '--json'], [0])
    await q(['inspect', '--url', U], [0])
    await q(['inspect', src, '--peek', '3', '--raw', '--json', '--url', U], [0])
    const exported = await q(['export', src, '--url', U], [0])
    const file = join(home.HOME, 'export.ndjson')
    writeFileSync(file, exported)
    await q(['import', `list:${base}-imp`, '--file', file, '--create', '--url', U], [0])
    await q(['move', src, `list:${base}-moved`, '--limit', '2', '--yes', '--create', '--url', U], [0])
    await q(['purge', `list:${base}-moved`, '--yes', '--url', U], [0])
    await q(['retry', src, '--yes', '--url', U], [0, 1, 4])
    await q(['wait', src, '--until', 'depth<100', '--timeout', '10s', '--url', U], [0])
    await q(['work', `list:${base}-imp`, '--echo', '--until-empty', '--url', U], [0])
    await q(['work', src, '--echo', '--json', '--max-jobs', '2', '--url', U], [0])
    await q(['bench', '--count', '200', '--queue', `list:${base}-bench`, '--url', U], [0])
    await q(['bench', '--count', '100', '--queue', `list:${base}-bench`, '--json', '--url', U], [0])
    await q(['metrics', '--once', '--queue', src, '--url', U], [0])
    await q(['top', '--once', '--url', U], [0])
    await q(['top', '--once', '--json', '--url', U], [0])
    await q(['inspect', '--json'], [0], {env: {QUEUE_URL: U}})
    await q(['context', 'add', 'sec', U, '--use'], [0])
    await q(['context', 'list'], [0])
    await q(['context', 'list', '--json'], [0])
    await q(['context', 'use', 'sec'], [0])
    await q(['inspect', src], [0])
    await q(['top', '--once', '--all-contexts'], [0])
    await q(['context', 'remove', 'sec'], [0])
  }, 900_000)

  it('every command on failure paths (wrong password, refused, malformed, unknown scheme), DEBUG on', async () => {
    const wrong = `redis://:${WRONG}@127.0.0.1:${redis.port}`
    const refused = `redis://user:${SECRET_URL}@127.0.0.1:1`
    const debug = {DEBUG: 'queuectl'}
    const commands: string[][] = [
      ['inspect'],
      ['inspect', 'list:x', '--peek', '2'],
      ['enqueue', 'list:x', '{"a":1}'],
      ['export', 'list:x'],
      ['import', 'list:x', '--create'],
      ['move', 'list:x', 'list:y', '--yes'],
      ['purge', 'list:x', '--yes'],
      ['retry', 'list:x', '--yes'],
      ['wait', 'list:x', '--timeout', '3s'],
      ['work', 'list:x', '--echo', '--max-jobs', '1'],
      ['bench', '--count', '10'],
      ['metrics', '--once'],
      ['top', '--once'],
    ]
    const jobs: (() => Promise<unknown>)[] = []
    // every command with the wrong password; the refused port (one code path for all) with a few
    for (const [url, cmds] of [[wrong, commands], [refused, commands.filter((c) => ['inspect', 'enqueue', 'work', 'bench', 'top'].includes(c[0]!))]] as const) {
      for (const cmd of cmds) jobs.push(() => q([...cmd, '--url', url], [1, 2, 3, 4], {env: debug, input: '{"a":1}\n'}))
      jobs.push(() => q(['inspect', '--json', '--url', url], [3], {env: debug}))
    }
    await pool(jobs, 4)
    for (const bad of [`redis://u:${SECRET_URL}@127.0.0.1:99999`, `nope://u:${SECRET_URL}@h`, `redis://u:${SECRET_URL}@[::1`, `amqp://u:${SECRET_URL}@127.0.0.1:5672/?heartbeat=x`]) {
      await q(['inspect', '--url', bad], [2, 3], {env: debug})
      await q(['context', 'add', 'bad', bad], [0, 2])
    }
    await q(['context', 'list', '--json'], [0])
    // the machine's RabbitMQ with a wrong password, and a management URL that carries one
    await q(['inspect', '--url', `amqp://guest:${WRONG}@127.0.0.1:5672/`], [3], {env: debug})
    await q(['inspect', '--url', 'amqp://guest:guest@127.0.0.1:5672/', '--mgmt-url', `http://guest:${WRONG}@127.0.0.1:15672`], [0, 3, 4], {env: debug})
    await q(['enqueue', 'nope', '{"a":1}', '--url', `amqp://guest:${WRONG}@127.0.0.1:5672/`], [3], {env: debug})
    // SQS: an access key secret in the URL, against the emulator and against a closed port
    const sqs = new URL(inject('sqsEndpoint'))
    await q(['inspect', '--url', `sqs://AKIDEXAMPLE:${AWS_SECRET}@${sqs.host}?region=us-east-1`], [0], {env: debug})
    await q(['inspect', 'missing-queue', '--url', `sqs://AKIDEXAMPLE:${AWS_SECRET}@${sqs.host}?region=us-east-1`], [3, 4], {env: debug})
    await q(['inspect', '--url', `sqs://AKIDEXAMPLE:${AWS_SECRET}@127.0.0.1:1?region=us-east-1`, '--timeout', '3s'], [3], {env: debug})
  }, 600_000)

  it('nothing the CLI wrote under its state directory (audit log, spools, logs) holds a secret', () => {
    const files = filesUnder(home.XDG_STATE_HOME)
    for (const f of files) expect(leaks(readFileSync(f, 'utf8')), `${f} holds a secret`).toEqual([])
    // the audit log exists: purge/move/import/retry ran above
    expect(files.some((f) => f.endsWith('audit.log')), `no audit.log among ${files.join(', ')}`).toBe(true)
    expect(seen.length).toBeGreaterThan(35)
    const slow = [...seen].sort((a, b) => b.ms - a.ms).slice(0, 5).map((s) => `${s.ms}ms ${s.args.slice(0, 3).join(' ')}`)
    console.log(`[reliability] secrets: ${seen.length} runs, no secret found; slowest: ${slow.join('; ')}`)
  })
})
