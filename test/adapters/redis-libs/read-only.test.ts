// The other Redis flavors (list, stream, Celery, Sidekiq, RQ, asynq): read-only commands write
// nothing and work for a Redis user limited to `+@read` (+@connection +info +ping). The queues are
// written by queuectl's own enqueue (the library formats); a private redis-server, so MONITOR and a
// dump of every key see this test's traffic only.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {snapshot, watchCommands, writesIn} from '../../helpers/redis-readonly.js'
import {PrivateRedis, freePort} from '../../reliability/harness.js'
import {INTEROP_DIR, PYTHON, canRun, runJson} from './helpers.js'

const home = isolatedHome()
// RQ jobs are pickled calls queuectl never writes: RQ's own API puts them there (in every state)
const hasRq = await canRun(PYTHON, ['-c', 'import rq'])
const WRITTEN = ['list:ro-list', 'stream:ro-stream', 'celery:ro-celery', 'sidekiq:ro-sidekiq', 'asynq:ro-asynq']
// refused whoever asks (exit 4, not a permission): their own workers consume them; RQ purges nothing
const REFUSED: Record<string, RegExp> = {move: /^(celery|sidekiq|asynq|rq):/, purge: /^rq:/}
const QUEUES = hasRq ? [...WRITTEN, 'rq:ro-rq'] : WRITTEN

describe('redis flavors: read-only commands on a +@read user (private redis-server)', {timeout: 120_000}, () => {
  let server: PrivateRedis
  let admin: Redis
  let readerUrl: string

  beforeAll(async () => {
    server = new PrivateRedis(await freePort())
    await server.start()
    admin = new Redis({host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null})
    await admin.call('ACL', 'SETUSER', 'qctl-reader', 'on', '>pw', '~*', '+@read', '+@connection', '+info', '+ping')
    readerUrl = `redis://qctl-reader:pw@127.0.0.1:${server.port}`
    if (hasRq) await runJson(PYTHON, ['rq_helper.py', 'setup', 'ro-rq'], {QCTL_REDIS_URL: server.url, PYTHONPATH: INTEROP_DIR, PYTHONDONTWRITEBYTECODE: '1'})
    await Promise.all(WRITTEN.map(async (queue) => {
      const flavor = queue.startsWith('celery:') ? ['--flavor', 'celery', '--name', 'tasks.add'] : ['--name', 'report:daily']
      const body = /^(celery|sidekiq):/.test(queue) ? '[1, 2]' : '{"n":1}'
      const r = await runCli(['enqueue', queue, body, '--count', '2', ...flavor, '--url', server.url], {env: home, timeoutMs: 60_000})
      expect({queue, code: r.code, stderr: r.stderr}).toEqual({queue, code: 0, stderr: ''})
    }))
  }, 120_000)

  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it('inspect (list, --peek), top --once, metrics --once, wait, export and purge/retry/move --dry-run succeed and change nothing', async () => {
    const before = await snapshot(admin)
    const watch = await watchCommands(admin)
    const cli = (args: string[]) => runCli([...args, '--url', readerUrl], {env: home, timeoutMs: 60_000})
    const refusals: Record<string, Awaited<ReturnType<typeof cli>>> = {}
    const runs: Record<string, Awaited<ReturnType<typeof cli>>> = {
      list: await cli(['inspect', '--json']),
      top: await cli(['top', '--once']),
      metrics: await cli(['metrics', '--once']),
    }
    await Promise.all(QUEUES.map(async (queue) => {
      runs[`${queue} inspect`] = await cli(['inspect', queue, '--peek', '10', '--json'])
      runs[`${queue} wait`] = await cli(['wait', queue, '--until', 'depth>0', '--timeout', '10s'])
      runs[`${queue} export`] = await cli(['export', queue])
      runs[`${queue} retry`] = await cli(['retry', queue, '--dry-run'])
      const dry = {purge: ['purge', queue, '--dry-run'], move: ['move', queue, `${queue}-copy`, '--create', '--dry-run']}
      for (const [what, args] of Object.entries(dry)) (REFUSED[what]!.test(queue) ? refusals : runs)[`${queue} ${what}`] = await cli(args)
    }))
    const log = await watch.stop()
    const failed = Object.entries(runs).filter(([, r]) => r.code !== 0 || r.stderr.replace(/^exported \d+ messages? from .*\n/, '') !== '').map(([what, r]) => `${what}: ${r.code} ${r.stderr.trim()}`)
    expect(failed).toEqual([])
    for (const [what, r] of Object.entries(refusals)) expect({what, code: r.code, stderr: r.stderr}).toEqual({what, code: 4, stderr: expect.stringMatching(/cannot (be consumed by queuectl|purge)/)})
    for (const queue of QUEUES) {
      const inspect = JSON.parse(runs[`${queue} inspect`].stdout) as {messages: unknown[]}
      expect({queue, peeked: inspect.messages.length > 0}).toEqual({queue, peeked: true})
      expect({queue, exported: runs[`${queue} export`].stdout.trim().split('\n').length >= 2}).toEqual({queue, exported: true})
      expect(runs.top.stdout).toContain(queue.split(':')[1])
      expect(runs.metrics.stdout).toContain(queue.split(':')[1])
    }
    expect(await snapshot(admin)).toEqual(before)
    expect(writesIn(log)).toEqual([])
    expect(log.length).toBeGreaterThan(0)
  }, 120_000)

  it('a write refused by the ACL names the write categories to grant (not +eval one command at a time) and that reads need only +@read', async () => {
    for (const queue of ['bullmq:ro-write', 'list:ro-write', 'sidekiq:ro-sidekiq']) {
      const r = await runCli(['enqueue', queue, '[1]', '--name', 'report:daily', '--url', readerUrl], {env: home, timeoutMs: 60_000})
      expect({queue, code: r.code}).toEqual({queue, code: 3})
      expect(r.stderr).toMatch(/ACL NOPERM\): this command writes — to let it, ACL SETUSER qctl-reader \+@write \+@scripting \+@transaction; read-only commands .* need only \+@read \+@connection \+info \+ping/)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('a user whose key pattern leaves the queues out is told to widen the key pattern, not to grant a command', async () => {
    await admin.call('ACL', 'SETUSER', 'qctl-other-keys', 'on', '>pw', '~other:*', '+@read', '+@connection', '+info', '+ping')
    const r = await runCli(['inspect', 'list:ro-list', '--url', `redis://qctl-other-keys:pw@127.0.0.1:${server.port}`], {env: home, timeoutMs: 60_000})
    expect(r.code).toBe(3)
    expect(r.stderr).toBe(`Error: redis://qctl-other-keys:***@127.0.0.1:${server.port} refused access to a key for user "qctl-other-keys" (ACL NOPERM) — grant it, e.g. ACL SETUSER qctl-other-keys '~*' (or the key pattern of these queues), or use another user\n`)
  })
})
