// A name that is no queue creates nothing: inspect, work, wait, top and export on it are exit 4
// and leave no key (no `queuectl:lists` entry, no stream, no BullMQ meta…) on every Redis flavor.
// `work --create` is how to make it; purging an empty list queue forgets its name.
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startRedis, type PrivateRedis} from '../adapters/redis/private-server.js'
import {openRedis} from '../adapters/redis/targets.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const env = isolatedHome()
const FLAVORS = ['list', 'stream', 'bullmq', 'bull', 'bee', 'celery', 'sidekiq', 'rq', 'asynq']
const COMMANDS: Record<string, (q: string) => string[]> = {
  inspect: (q) => ['inspect', q],
  work: (q) => ['work', q, '--echo', '--until-empty', '--reconnect-timeout', '0'],
  wait: (q) => ['wait', q, '--timeout', '5s'],
  top: (q) => ['top', '--once', '-q', q],
  export: (q) => ['export', q, '--consume', '--yes', '--idle', '1s'],
}

describe('a queue name that does not exist', {timeout: 180_000}, () => {
  let redis: PrivateRedis
  let url: string
  const keys = () => spawnSync('redis-cli', ['-p', String(redis.port), '--scan'], {encoding: 'utf8'}).stdout.trim().split('\n').filter(Boolean)
  beforeAll(async () => {
    redis = await startRedis()
    url = `redis://127.0.0.1:${redis.port}`
  })
  afterAll(async () => redis?.stop())
  // our own server: each test starts from an empty keyspace
  beforeEach(() => void spawnSync('redis-cli', ['-p', String(redis.port), 'FLUSHALL']))

  it.each(FLAVORS)('%s: inspect, work, wait, top and export are exit 4 and create no key', async (flavor) => {
    for (const [name, args] of Object.entries(COMMANDS)) {
      const r = await runCli([...args(`${flavor}:nope`), '--url', url], {env, timeoutMs: 30_000})
      expect({command: name, code: r.code, lines: r.stderr.trim().split('\n').length}).toEqual({command: name, code: 4, lines: 1})
      expect({command: name, keys: keys()}).toEqual({command: name, keys: []})
    }
  })

  it('a bare name on Redis (a new list by default) is refused by work, naming --create', async () => {
    const r = await runCli(['work', 'nope', '--echo', '--until-empty', '--url', url], {env})
    expect(r.code).toBe(4)
    expect(r.stderr.trim()).toMatch(/^Error: queue "nope" not found on .* \(or give --create to make it\)$/)
    expect(keys()).toEqual([])
  })

  it('the list adapter itself refuses to consume a missing list, registering nothing', async () => {
    const broker = await openRedis(url)
    try {
      await expect(broker.consume('list:nope', () => {}, {prefetch: 1})).rejects.toMatchObject({exitCode: 4})
    } finally {
      await broker.close()
    }
    expect(keys()).toEqual([])
  })

  it('work --create makes a list queue; purging it while empty forgets its name', async () => {
    const made = await runCli(['work', 'list:typo', '--echo', '--until-empty', '--create', '--url', url], {env})
    expect(made.code).toBe(0)
    expect(keys()).toEqual(['queuectl:lists'])
    expect((await runCli(['inspect', 'list:typo', '--url', url], {env})).code).toBe(0)
    const purged = await runCli(['purge', 'list:typo', '--yes', '--url', url], {env})
    expect(purged.code).toBe(0)
    expect(keys()).toEqual([])
    expect((await runCli(['inspect', 'list:typo', '--url', url], {env})).code).toBe(4)
  })

  it('purging a list queue that still holds messages keeps its name (it is empty now, not gone)', async () => {
    expect((await runCli(['enqueue', 'list:kept', 'x', '--url', url], {env})).code).toBe(0)
    expect((await runCli(['purge', 'list:kept', '--yes', '--url', url], {env})).stdout).toMatch(/removed 1 waiting message/)
    expect((await runCli(['inspect', 'list:kept', '--url', url], {env})).code).toBe(0)
    expect((await runCli(['purge', 'list:kept', '--yes', '--url', url], {env})).code).toBe(0)
    expect(keys()).toEqual([])
  })

  it('on memory:// and RabbitMQ too: work on a missing queue is exit 4 and makes none', async () => {
    const mem = await runCli(['work', 'nope', '--echo', '--until-empty', '--url', 'memory://'], {env})
    expect(mem.code).toBe(4)
    expect(mem.stderr).toMatch(/give --create/)
    const amqp = 'amqp://guest:guest@127.0.0.1:5672'
    const q = `nothing-left-${process.pid}`
    expect((await runCli(['work', q, '--echo', '--until-empty', '--url', amqp], {env})).code).toBe(4)
    expect((await runCli(['inspect', q, '--url', amqp], {env})).code).toBe(4)
  })
})
