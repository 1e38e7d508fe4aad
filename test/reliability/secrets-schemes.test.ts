// Issue 21: a credential in a connection URL, in any form any transport takes (user:password, a
// NATS token as the user part, ?password=, SQS keys in the URL or the environment, a management
// URL's password), never comes back out: not on stdout or stderr (tables, --json, one-line errors,
// DEBUG stacks), not in the audit log, not in metrics labels, not in contexts (add/list/use, text
// and JSON) or top. Every command runs with a URL of every scheme; most against a closed port (the
// error paths), and the full round on real servers for NATS (token, user and password), PostgreSQL
// (pg-boss and graphile, trust auth: the password is sent and ignored) and SQS (keys in the URL).
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {freePort, runQ, uniqueName} from './harness.js'
import {PrivateNats} from '../adapters/nats/helpers.js'
import {PG_HOST, freshDatabase, installGraphile, installPgboss, type TestDb} from '../adapters/postgres/helpers.js'

const sec = (tag: string) => `Qx8${tag}S3c`
const S = {
  redis: sec('redis'),
  rediss: sec('rediss'),
  amqp: sec('amqp'),
  amqps: sec('amqps'),
  mgmt: sec('mgmt'),
  natsToken: sec('natstok'),
  natsPass: sec('natspw'),
  sqs: sec('sqs'),
  sqsEnv: sec('sqsenv'),
  pg: sec('pg'),
  pgQuery: sec('pgq'),
  memory: sec('mem'),
}
const NEEDLES = Object.values(S)
const home = isolatedHome()
const natsToken = new PrivateNats(0, ['--auth', S.natsToken])
const natsUser = new PrivateNats(0, ['--user', 'natsu', '--pass', S.natsPass])
let db: TestDb | undefined
let runs = 0

function leaks(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n))
}

function filesUnder(dir: string): string[] {
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]))
}

async function pool(jobs: (() => Promise<unknown>)[], width: number): Promise<void> {
  let next = 0
  await Promise.all(Array.from({length: width}, async () => {
    while (next < jobs.length) await jobs[next++]!()
  }))
}

interface Run {
  args: string[]
  codes: number[]
  env?: Record<string, string>
  input?: string
}

async function q({args, codes, env, input}: Run): Promise<string> {
  const r = await runQ(args, {env: {...home, AWS_EC2_METADATA_DISABLED: 'true', ...env}, input, timeoutMs: 90_000})
  runs++
  const what = `queue ${args.join(' ')}`
  expect(leaks(r.stdout + r.stderr), `${what} printed a secret:\n${r.stdout}\n${r.stderr}`).toEqual([])
  expect(codes, `${what} exited ${r.code}:\n${r.stderr.slice(0, 600)}`).toContain(r.code)
  expect(r.stderr, `${what}: an internal error`).not.toMatch(/internal error|this is a bug/)
  return r.stdout
}

/** Every command against one URL whose server is not there: each must fail with the secret masked. */
function failureRuns(url: string, queue: string): Run[] {
  // memory:// needs no server: its commands may well succeed
  const fail = url.startsWith('memory:') ? [0, 1, 2, 3, 4] : [1, 2, 3, 4]
  const env = {DEBUG: 'queuectl'}
  const cmds: string[][] = [
    ['enqueue', queue, '{"a":1}'],
    ['enqueue', queue, '{"a":1}', '--json'],
    ['inspect'],
    ['inspect', '--json'],
    ['inspect', queue, '--peek', '2'],
    ['top', '--once'],
    ['top', '--once', '--json'],
    ['metrics', '--once'],
    ['wait', queue, '--timeout', '2s'],
    ['move', queue, `${queue}-b`, '--yes'],
    ['retry', queue, '--yes'],
    ['purge', queue, '--yes'],
    ['export', queue],
    ['import', queue, '--create'],
    // memory:// with --max-jobs on an empty queue exits 13 (an unsettled await: a bug of its own, older than this test)
    ['work', queue, '--echo', '--reconnect-timeout', '0', ...(url.startsWith('memory:') ? ['--until-empty'] : ['--max-jobs', '1'])],
    ['bench', '--count', '5', '--queue', queue],
  ]
  return [
    ...cmds.map((c) => ({args: [...c, '--url', url, '--timeout', '2s'], codes: fail, env, input: '{"payload":"x"}\n'})),
    {args: ['inspect', '--timeout', '2s'], codes: fail, env: {...env, QUEUE_URL: url}},
    // the secret URL as the destination of a move from a URL with no user part
    {args: ['move', 'list:qctl-none', 'x', '--yes', '--url', 'redis://127.0.0.1:6379', '--to-url', url, '--timeout', '2s'], codes: fail, env},
  ]
}

const CLOSED = '127.0.0.1:1'
const unreachable: [string, string][] = [
  [`redis://u:${S.redis}@${CLOSED}/0`, 'list:x'],
  [`rediss://:${S.rediss}@${CLOSED}`, 'list:x'],
  [`amqp://u:${S.amqp}@${CLOSED}/`, 'x'],
  [`amqps://u:${S.amqps}@${CLOSED}/vh`, 'x'],
  [`nats://${S.natsToken}@${CLOSED}`, 'S'],
  [`nats+tls://${S.natsToken}@${CLOSED}`, 'S'],
  [`nats://natsu:${S.natsPass}@${CLOSED},127.0.0.1:2`, 'S'],
  [`sqs://AKIDEXAMPLE:${S.sqs}@${CLOSED}?region=us-east-1`, 'x'],
  [`postgres://app:${S.pg}@${CLOSED}/db`, 'pgboss:x'],
  [`postgresql://app@${CLOSED}/db?password=${S.pgQuery}`, 'graphile:x'],
  [`memory://u:${S.memory}@local`, 'x'],
]

beforeAll(async () => {
  for (const n of [natsToken, natsUser]) {
    ;(n as {port: number}).port = await freePort()
    await n.start()
  }
  db = await freshDatabase('secrets')
  await installPgboss(db.url)
  await installGraphile(db.url)
}, 120_000)
afterAll(async () => {
  await Promise.allSettled([natsToken.dispose(), natsUser.dispose(), db?.drop()])
})

describe('secrets of every scheme appear in no output, audit line, metrics label or context', () => {
  it('every command on its error path, with a URL of every scheme (DEBUG stacks on)', async () => {
    const jobs = unreachable.flatMap(([url, queue]) => failureRuns(url, queue)).map((run) => () => q(run))
    // an SQS secret from the environment, and a management URL's password
    jobs.push(() => q({args: ['inspect', '--url', `sqs://${CLOSED}?region=us-east-1`, '--timeout', '2s'], codes: [3], env: {AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: S.sqsEnv, DEBUG: 'queuectl'}}))
    jobs.push(() => q({args: ['inspect', '--url', `amqp://u:${S.amqp}@${CLOSED}/`, '--mgmt-url', `http://guest:${S.mgmt}@${CLOSED}`, '--timeout', '2s'], codes: [3, 4], env: {DEBUG: 'queuectl'}}))
    await pool(jobs, 3)
  }, 900_000)

  it('contexts of every scheme: add, list (text and JSON), use, top --all-contexts, metrics by context', async () => {
    const names: string[] = []
    for (const [i, [url]] of unreachable.entries()) {
      const name = `c${i}`
      names.push(name)
      await q({args: ['context', 'add', name, url], codes: [0]})
      await q({args: ['context', 'add', name, url, '--force', '--json'], codes: [0]})
    }
    await q({args: ['context', 'add', 'mg', `amqp://u:${S.amqp}@${CLOSED}/`, '--mgmt-url', `http://guest:${S.mgmt}@${CLOSED}`], codes: [0]})
    const list = await q({args: ['context', 'list'], codes: [0]})
    expect(list).toContain(`nats://***@${CLOSED}`)
    const json = JSON.parse(await q({args: ['context', 'list', '--json'], codes: [0]})) as {contexts: {name: string; url: string}[]}
    expect(json.contexts.find((c) => c.name === 'c4')?.url).toBe(`nats://***@${CLOSED}`)
    for (const name of names) await q({args: ['context', 'use', name], codes: [0]})
    await q({args: ['context', 'use', 'c4', '--json'], codes: [0]})
    await q({args: ['inspect', '--timeout', '2s'], codes: [3]})
    await q({args: ['top', '--once', '--all-contexts', '--timeout', '2s'], codes: [0, 3]})
    await q({args: ['top', '--once', '--all-contexts', '--json', '--timeout', '2s'], codes: [0, 3]})
    await q({args: ['metrics', '--once', ...names.slice(0, 8), '--timeout', '2s'], codes: [3]})
    for (const name of [...names, 'mg']) await q({args: ['context', 'remove', name], codes: [0]})
  }, 600_000)

  it('every command on its success path: NATS with a token and with a user and password, PostgreSQL (pg-boss, graphile), SQS with keys', async () => {
    const sqs = new URL(inject('sqsEndpoint'))
    const targets: [string, string][] = [
      [`nats://${S.natsToken}@127.0.0.1:${natsToken.port}`, `QS${uniqueName('t').replace(/\W/g, '')}`],
      [`nats://natsu:${S.natsPass}@127.0.0.1:${natsUser.port}`, `QS${uniqueName('u').replace(/\W/g, '')}`],
      [`postgres://postgres:${S.pg}@${PG_HOST}/${db!.name}`, `pgboss:${uniqueName('pb')}`],
      [`postgresql://postgres:${S.pg}@${PG_HOST}/${db!.name}`, `graphile:${uniqueName('gw')}`],
      [`sqs://AKIDEXAMPLE:${S.sqs}@${sqs.host}?region=us-east-1`, uniqueName('sq')],
    ]
    const file = join(home.HOME, 'in.ndjson')
    writeFileSync(file, ['{"payload":"{\\"a\\":1}"}', '{"payload":"{\\"b\\":2}"}', '{"payload":"{\\"c\\":3}"}'].join('\n') + '\n')
    for (const [U, queue] of targets) {
      const ok = (args: string[], codes = [0], env?: Record<string, string>) => q({args: [...args, '--url', U], codes, env})
      await ok(['import', queue, '--create', '--file', file])
      await ok(['enqueue', queue, '{"d":4}', '--json'])
      await ok(['inspect'])
      await ok(['inspect', queue, '--peek', '2'])
      await ok(['inspect', queue, '--peek', '2', '--json'])
      await ok(['top', '--once'])
      await ok(['top', '--once', '--json'])
      const metrics = await ok(['metrics', '--once', '--queue', queue])
      expect(metrics).toMatch(/broker="/)
      await ok(['wait', queue, '--until', 'depth<100', '--timeout', '10s'])
      await ok(['export', queue, '--limit', '2'])
      await ok(['move', queue, `${queue}b`, '--limit', '1', '--create', '--yes'], [0, 4])
      await ok(['retry', queue, '--yes'], [0, 1, 4])
      await ok(['work', queue, '--echo', '--max-jobs', '2'])
      await ok(['work', queue, '--echo', '--json', '--max-jobs', '1'])
      await ok(['purge', queue, '--yes'], [0, 4])
      await ok(['bench', '--count', '20', '--queue', `${queue}x`], [0, 1, 2, 4])
      await q({args: ['context', 'add', 'ok', U, '--use', '--force'], codes: [0]})
      await q({args: ['top', '--once', '--all-contexts'], codes: [0]})
      await q({args: ['metrics', '--once', 'ok', '--queue', queue], codes: [0]})
    }
    await q({args: ['context', 'remove', 'ok'], codes: [0]})
  }, 900_000)

  it('nothing the CLI wrote under its state and config directories holds a secret in clear, and the audit log names the brokers masked', () => {
    const files = filesUnder(home.XDG_STATE_HOME)
    for (const f of files) expect(leaks(readFileSync(f, 'utf8')), `${f} holds a secret`).toEqual([])
    const audit = files.find((f) => f.endsWith('audit.log'))
    expect(audit, 'an audit log was written').toBeDefined()
    const lines = readFileSync(audit!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {url: string})
    expect(lines.some((l) => l.url.startsWith('nats://***@'))).toBe(true)
    expect(runs).toBeGreaterThan(200)
    console.log(`[reliability] secrets of every scheme: ${runs} runs, no secret found`)
  })
})
