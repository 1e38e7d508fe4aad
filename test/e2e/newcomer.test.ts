// Issue 23, a newcomer's first hour: a typo gets a suggestion, a failure names its cause and fix.
import {spawnSync} from 'node:child_process'
import amqp from 'amqplib'
import {Redis} from 'ioredis'
import {afterAll, describe, expect, it} from 'vitest'
import {BIN, isolatedHome, runCli} from '../helpers/cli.js'

describe('typos get a suggestion: one line, exit 2', () => {
  const home = isolatedHome()

  it('a mistyped command: queue inspekt → did you mean inspect?', async () => {
    const r = await runCli(['inspekt'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/"inspekt".*did you mean inspect\?/)])
    expect(r.stdout).toBe('')
  })

  it('a mistyped command with arguments: queue enque x {} → did you mean enqueue?', async () => {
    const r = await runCli(['enque', 'x', '{}'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/"enque".*did you mean enqueue\?/)])
  })

  it('a mistyped command of a topic: queue context lst → did you mean context list?', async () => {
    const r = await runCli(['context', 'lst'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/"context lst".*did you mean context list\?/)])
  })

  it('nothing near: says where the list of commands is', async () => {
    const r = await runCli(['zzzzzzzz'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/"zzzzzzzz" is not a queue command.*queue --help/)])
  })

  it('a word far from every command of a topic: points at the topic\'s help, no wild guess', async () => {
    const r = await runCli(['context', 'zzzz'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual(['Error: "context zzzz" is not a queue command — `queue context --help` lists them'])
  })

  it('queue help inspekt: there is no help command, --help is the way, for the command meant', async () => {
    const r = await runCli(['help', 'inspekt'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual(['Error: "help" is not a queue command — use --help: `queue inspect --help`'])
  })

  it('a flag before the command: says it goes after, in the JSON envelope under --json', async () => {
    const r = await runCli(['--json', 'inspekt'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {message: expect.stringMatching(/"--json" is a flag: it goes after the command/), exitCode: 2}})
  })

  it('never prompts: stdin is left alone and the command is not run', async () => {
    const r = await runCli(['inspekt', '--url', 'memory://'], {env: home, input: 'y\n'})
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
  })

  it('--json: the error envelope on stdout, nothing on stderr', async () => {
    const r = await runCli(['inspekt', '--json'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({error: {message: expect.stringMatching(/did you mean inspect\?/), exitCode: 2, kind: 'UsageError'}})
    expect(r.stderr).toBe('')
  })

  it('a mistyped flag: --peak → Nonexistent flag --peak — did you mean --peek?', async () => {
    const r = await runCli(['inspect', '--peak', '3', '--url', 'memory://'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual(['Error: Nonexistent flag --peak — did you mean --peek?'])
  })

  it('a mistyped flag under --json: the envelope names the suggestion', async () => {
    const r = await runCli(['inspect', '--peak=3', '--url', 'memory://', '--json'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {message: 'Nonexistent flag --peak — did you mean --peek?', exitCode: 2}})
  })
})

describe('a missing queue the command could create: the error names --create', {timeout: 60_000}, () => {
  const home = isolatedHome()
  const base = `qctl-newbie-${process.pid}-${Date.now()}`
  const REDIS = 'redis://127.0.0.1:6379'
  const AMQP = 'amqp://guest:guest@127.0.0.1:5672'
  const redis = new Redis(REDIS)
  afterAll(async () => {
    await redis.del(`${base}-src`, `${base}-dst`, `${base}-imp`)
    redis.disconnect()
    const conn = await amqp.connect(AMQP)
    const ch = await conn.createChannel()
    await ch.deleteQueue(`${base}-amqp`)
    await conn.close()
  })

  it('enqueue to a RabbitMQ queue that does not exist: exit 4 naming --create; with --create it is made and the message lands as given', async () => {
    const queue = `${base}-amqp`
    const missing = await runCli(['enqueue', queue, '{"to":"ada"}', '--url', AMQP], {env: home, input: ''})
    expect(missing.code).toBe(4)
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`queue "${queue}" not found .*give --create to make it`))])
    const made = await runCli(['enqueue', queue, '{"to":"ada"}', '--create', '--url', AMQP], {env: home, input: ''})
    expect(made.code, made.stderr).toBe(0)
    // amqplib, RabbitMQ's own client, reads it back: the bytes given
    const conn = await amqp.connect(AMQP)
    const ch = await conn.createChannel()
    const got = await ch.get(queue, {noAck: true})
    await conn.close()
    expect(got && got.content.toString()).toBe('{"to":"ada"}')
  })

  it('move into a list that does not exist, also under --dry-run: exit 4 naming --create, nothing moved', async () => {
    await redis.rpush(`${base}-src`, '{"n":1}')
    for (const dry of [['--dry-run'], ['--yes']]) {
      const r = await runCli(['move', `list:${base}-src`, `list:${base}-dst`, ...dry, '--url', REDIS], {env: home, input: ''})
      expect(r.code, r.stderr).toBe(4)
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/not found .*give --create to make it/)])
    }
    expect(await redis.llen(`${base}-src`)).toBe(1)
  })

  it('--delay or --priority to a name on Redis that no library holds: exit 4 pointing at bullmq:NAME, nothing sent', async () => {
    for (const option of [['--delay', '30s'], ['--priority', '3']]) {
      const r = await runCli(['enqueue', `${base}-dst`, '{"to":"ada"}', ...option, '--url', REDIS], {env: home, input: ''})
      expect(r.code, r.stderr).toBe(4)
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/plain Redis list has no (schedule|priorities): name a job library's queue, e\.g\. bullmq:NAME/)])
    }
    expect(await redis.exists(`${base}-dst`)).toBe(0)
  })

  it('import into a list that does not exist: exit 4 naming --create', async () => {
    const r = await runCli(['import', `list:${base}-imp`, '--url', REDIS], {env: home, input: '{"payload":"x"}\n'})
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/not found .*give --create to make it/)])
  })
})

describe('prompts: declining exits 1; the hint repeats the invocation, --context and --url included', {timeout: 60_000}, () => {
  const home = isolatedHome()
  const queue = `list:qctl-newbie-decline-${process.pid}-${Date.now()}`
  const REDIS = 'redis://127.0.0.1:6379'
  const redis = new Redis(REDIS)
  afterAll(async () => {
    await redis.del(queue.slice('list:'.length), `${queue.slice('list:'.length)}-dst`)
    // move --create registered the new list's name (queuectl:lists keeps empty list queues)
    await redis.srem('queuectl:lists', queue.slice('list:'.length), `${queue.slice('list:'.length)}-dst`)
    redis.disconnect()
  })

  it('not a terminal: the --yes hint keeps --context, so it runs against the same broker', async () => {
    expect((await runCli(['context', 'add', 'r', REDIS], {env: home})).code).toBe(0)
    // the current context is another broker: a hint without --context r would purge that one
    expect((await runCli(['context', 'add', 'other', 'memory://'], {env: home})).code).toBe(0)
    expect((await runCli(['context', 'use', 'other'], {env: home})).code).toBe(0)
    expect((await runCli(['enqueue', queue, '{"n":1}', '--context', 'r'], {env: home})).code).toBe(0)
    const r = await runCli(['purge', queue, '--context', 'r'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(new RegExp(`add --yes: queue purge ${queue} --context r --yes$`))
    expect(await redis.llen(queue.slice('list:'.length))).toBe(1)
  })

  it('not a terminal: the --yes hint keeps --url and the other flags', async () => {
    const r = await runCli(['move', queue, `${queue}-dst`, '--limit', '1', '--create', '--url', REDIS], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(new RegExp(`add --yes: queue move ${queue} ${queue}-dst --limit 1 --create --url ${REDIS} --yes$`))
  })

  it('answering no on a terminal exits 1, says nothing was removed, and removes nothing', () => {
    // script(1) gives the command a terminal; "n" is typed at the prompt
    const command = `'${process.execPath}' '${BIN}' purge ${queue} --context r`
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {input: 'n\n', env: {...process.env, ...home}, encoding: 'utf8', timeout: 30_000})
    expect(r.stdout).toMatch(/remove 1 waiting message .*\[y\/N\]/)
    expect(r.stdout).toMatch(/nothing removed/)
    expect(r.status).toBe(1)
    return redis.llen(queue.slice('list:'.length)).then((n) => expect(n).toBe(1))
  })
})

describe('README: `queue bench` with a current context benchmarks that broker', {timeout: 60_000}, () => {
  it('the report names the current context\'s Redis, not memory://', async () => {
    const home = isolatedHome()
    expect((await runCli(['context', 'add', 'local', 'redis://127.0.0.1:6379'], {env: home})).code).toBe(0)
    const r = await runCli(['bench', '--duration', '1s'], {env: home, input: ''})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^queue bench +redis:\/\/127\.0\.0\.1:6379 /m)
  })
})
