// All four job libraries on one Redis, through the built bin: `queue inspect` with no flag finds
// Celery, Sidekiq, RQ and asynq queues side by side, each once and under its own kind (none of
// their lists, sets or streams leaks out as a plain list: or stream: queue); bare names that only
// one library has resolve; enqueue refusals exit before anything is written.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {LIB_DB, REDIS_HOST, libUrl} from '../adapters/redis-libs/helpers.js'

const DB = LIB_DB.asynq // shared with the asynq tests, which use unique names too
const URL = libUrl(DB)
const tag = `libs${process.pid}${Date.now().toString(36)}`
const home = isolatedHome()
const cli = (args: string[]) => runCli([...args, '--url', URL], {env: home, timeoutMs: 90_000})
const SEP = '\x06\x16'

describe('job libraries side by side (e2e)', {timeout: 120_000}, () => {
  let raw: Redis
  const names = {celery: `mail-${tag}`, sidekiq: `sk-${tag}`, rq: `rq-${tag}`, asynq: `aq-${tag}`}

  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    // an RQ queue as RQ 1.13 leaves it: registry entry, list of ids, the job hash, a results stream
    const id = `job-${tag}`
    await raw.sadd('rq:queues', `rq:queue:${names.rq}`)
    await raw.rpush(`rq:queue:${names.rq}`, id)
    await raw.hset(`rq:job:${id}`, {status: 'queued', origin: names.rq, description: "app.send('x')", created_at: '2026-01-01T00:00:00.000000Z', enqueued_at: '2026-01-01T00:00:00.000000Z', data: Buffer.from([0x78, 0x9c, 0x01])})
    await raw.xadd(`rq:results:${id}`, '*', 'type', '1')
  })

  afterAll(async () => {
    const id = `job-${tag}`
    await raw.del(`rq:queue:${names.rq}`, `rq:job:${id}`, `rq:results:${id}`, names.celery, `${names.celery}${SEP}3`, `_kombu.binding.${names.celery}`, `queue:${names.sidekiq}`)
    await raw.srem('rq:queues', `rq:queue:${names.rq}`)
    await raw.srem('queues', names.sidekiq)
    for await (const keys of raw.scanStream({match: `asynq:{${names.asynq}}:*`, count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
    await raw.srem('asynq:queues', names.asynq)
    raw.disconnect()
  })

  it('inspect lists each library’s queue once, under its own kind, with its counts', async () => {
    for (const [queue, name, payload] of [
      [`celery:${names.celery}`, 'tasks.send', '[1]'],
      [`sidekiq:${names.sidekiq}`, 'SendWorker', '[1]'],
      [`asynq:${names.asynq}`, 'email:send', '{"n":1}'],
    ] as const) {
      const sent = await cli(['enqueue', queue, '--name', name, payload, '--count', '2'])
      expect(sent.stderr).toBe('')
      expect(sent.code).toBe(0)
    }
    // a Celery priority sub-queue is folded into its queue, not listed as a list of its own
    await raw.lpush(`${names.celery}${SEP}3`, (await raw.lindex(names.celery, 0))!)

    const listed = await cli(['inspect', '--json'])
    expect(listed.code).toBe(0)
    const mine = (JSON.parse(listed.stdout) as {queues: {name: string; kind: string; counts: {waiting?: number}}[]}).queues.filter((q) => q.name.includes(tag))
    expect(mine.map((q) => [q.name, q.kind, q.counts.waiting]).sort()).toEqual(
      [
        [`asynq:${names.asynq}`, 'asynq', 2],
        [`celery:${names.celery}`, 'celery', 3],
        [`rq:${names.rq}`, 'rq', 1],
        [`sidekiq:${names.sidekiq}`, 'sidekiq', 2],
      ].sort(),
    )

    const table = await cli(['inspect'])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(new RegExp(`rq:${names.rq} +rq +1`))
    expect(table.stdout).toMatch(new RegExp(`sidekiq:${names.sidekiq} +sidekiq +2`))
  }, 120_000)

  it('a bare name only one library has resolves to it; a wrong kind is not found (exit 4)', async () => {
    const bare = await cli(['inspect', names.sidekiq, '--json'])
    expect(bare.code).toBe(0)
    expect(JSON.parse(bare.stdout).queue).toMatchObject({name: `sidekiq:${names.sidekiq}`, kind: 'sidekiq'})
    const rq = await cli(['inspect', names.rq, '--peek', '1', '--json'])
    expect(rq.code).toBe(0)
    expect(JSON.parse(rq.stdout).messages[0]).toMatchObject({name: 'app.send', body: {data: 'pickled call, 3 bytes (not unpickled)'}})
    const wrong = await cli(['inspect', `asynq:${names.sidekiq}`])
    expect(wrong.code).toBe(4)
    expect(wrong.stderr).toMatch(/asynq queue .* not found/)
  }, 120_000)

  it('purge and enqueue where a library does not allow them: one line, exit 4, nothing touched', async () => {
    const rqEnqueue = await cli(['enqueue', `rq:${names.rq}`, '--name', 'app.send', '[]'])
    expect(rqEnqueue.code).toBe(4)
    expect(rqEnqueue.stderr.trim().split('\n')).toHaveLength(1)
    expect(await raw.llen(`rq:queue:${names.rq}`)).toBe(1)
    const rqPurge = await cli(['purge', `rq:${names.rq}`, '--yes'])
    expect(rqPurge.code).toBe(4)
    expect(rqPurge.stderr).toMatch(/cannot purge/)
    expect(await raw.llen(`rq:queue:${names.rq}`)).toBe(1)
  }, 120_000)

  it('work, bench and move read capabilities.consume/enqueue first: one line, exit 4, nothing touched', async () => {
    const work = await cli(['work', `celery:${names.celery}`, '--echo', '--on-exhausted', 'dead-letter'])
    expect(work.code).toBe(4)
    expect(work.stderr.trim()).toMatch(/^Error: queue "celery:mail-\S+" on redis:\/\/\S+ cannot be consumed by queuectl — run Celery workers on it/)
    const bench = await cli(['bench', '--queue', `celery:bench-${tag}`, '--count', '10'])
    expect(bench.code).toBe(4)
    expect(bench.stderr).toMatch(/cannot be consumed by queuectl/)
    expect(await raw.exists(`_kombu.binding.bench-${tag}`, `bench-${tag}`)).toBe(0)
    const source = `list:mv-${tag}`
    await raw.rpush(`mv-${tag}`, 'x')
    try {
      const move = await cli(['move', source, `rq:${names.rq}`, '--yes'])
      expect(move.code).toBe(4)
      expect(move.stderr).toMatch(/cannot be enqueued to by queuectl — RQ jobs are pickled Python calls/)
      expect(await raw.llen(`mv-${tag}`)).toBe(1)
    } finally {
      await raw.del(`mv-${tag}`)
    }
  }, 120_000)
})
