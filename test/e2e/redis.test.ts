// queue inspect / enqueue against Redis through the built bin, and the bad-input exit codes.
import {spawnSync} from 'node:child_process'
import {Queue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {freePort, startRedis, type PrivateRedis} from '../adapters/redis/private-server.js'
import {REDIS_HOST} from '../adapters/redis/targets.js'

const DB = 11 // shared with the bullmq contract suite, which uses unique names too
const URL = `redis://${REDIS_HOST}/${DB}`
const tag = `e2e${process.pid}${Date.now().toString(36)}`
const [host, port] = REDIS_HOST.split(':') as [string, string]
const home = isolatedHome()
const cli = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(args, {...options, env: {...home, ...options.env}})

describe('queue against redis (e2e)', () => {
  let raw: Redis
  const queues: Queue[] = []
  beforeAll(() => {
    raw = new Redis({host, port: Number(port), db: DB})
  })
  afterAll(async () => {
    for (const q of queues) await q.obliterate({force: true}).catch(() => {})
    await Promise.all(queues.map((q) => q.close()))
    for await (const keys of raw.scanStream({match: `*${tag}*`, count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
    await raw.srem('queuectl:lists', `jobs-${tag}`)
    raw.disconnect()
  })

  it('enqueue to bullmq:NAME creates a BullMQ job that inspect shows in BullMQ terms', async () => {
    const q = `bullmq:emails-${tag}`
    const sent = await cli(['enqueue', q, '{"to":"a@example.com"}', '--name', 'welcome', '--priority', '5', '--url', URL])
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    const bull = new Queue(`emails-${tag}`, {connection: raw})
    queues.push(bull)
    expect(await bull.getPrioritizedCount()).toBe(1)
    const shown = await cli(['inspect', q, '--peek', '5', '--json', '--url', URL])
    expect(shown.code).toBe(0)
    const out = JSON.parse(shown.stdout) as {queue: {kind: string; counts: {waiting: number}}; messages: {name: string; body: unknown; priority: number}[]}
    expect(out.queue.kind).toBe('bullmq')
    expect(out.queue.counts.waiting).toBe(1)
    expect(out.messages[0]).toMatchObject({name: 'welcome', body: {to: 'a@example.com'}, priority: 5})
  })

  it('a bare new name becomes a plain list; inspect lists it as list:NAME', async () => {
    const sent = await cli(['enqueue', `jobs-${tag}`, 'hello', '--count', '3', '--url', URL])
    expect(sent.code).toBe(0)
    expect(await raw.llen(`jobs-${tag}`)).toBe(3)
    expect(await raw.lindex(`jobs-${tag}`, 0)).toBe('hello')
    const all = await cli(['inspect', '--json', '--url', URL])
    expect(all.code).toBe(0)
    const queuesShown = (JSON.parse(all.stdout) as {queues: {name: string; kind: string; counts: {waiting: number}}[]}).queues
    expect(queuesShown.find((s) => s.name === `list:jobs-${tag}`)).toMatchObject({kind: 'list', counts: {waiting: 3}})
  })

  it('a bare name in two flavors exits 2 naming both', async () => {
    await raw.lpush(`twin-${tag}`, 'x')
    const bull = new Queue(`twin-${tag}`, {connection: raw})
    queues.push(bull)
    await bull.add('j', {})
    const r = await cli(['inspect', `twin-${tag}`, '--url', URL])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`bullmq:twin-${tag}, list:twin-${tag}`)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a key of the wrong type exits 4 naming its type', async () => {
    await raw.set(`counter-${tag}`, '7')
    const r = await cli(['inspect', `list:counter-${tag}`, '--url', URL])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/is a string, not a list/)
    const e = await cli(['enqueue', `stream:counter-${tag}`, 'x', '--url', URL])
    expect(e.code).toBe(4)
    expect(await raw.get(`counter-${tag}`)).toBe('7')
  })

  it('a corrupt BullMQ job is shown as undecodable and the listing still works (exit 0)', async () => {
    const bull = new Queue(`broken-${tag}`, {connection: raw})
    queues.push(bull)
    const [, bad] = await bull.addBulk([{name: 'a', data: {n: 1}}, {name: 'b', data: {n: 2}}])
    await raw.hset(`bull:broken-${tag}:${bad!.id}`, 'data', '{oops')
    const r = await cli(['inspect', `bullmq:broken-${tag}`, '--peek', '10', '--json', '--url', URL])
    expect(r.code).toBe(0)
    const messages = (JSON.parse(r.stdout) as {messages: {name: string; undecodable?: string}[]}).messages
    expect(messages).toHaveLength(2)
    expect(messages.find((m) => m.name === 'a')?.undecodable).toBeUndefined()
    expect(messages.find((m) => m.name === 'b')?.undecodable).toMatch(/cannot read job/)
  })

  it('a refused port exits 3 with one line', async () => {
    const r = await cli(['inspect', '--url', `redis://127.0.0.1:${await freePort()}`, '--timeout', '20s'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/refused/)
    expect(r.ms).toBeLessThan(15_000) // a refusal does not wait out the 20 s timeout
  })
})

describe('queue against a private redis (e2e)', () => {
  let server: PrivateRedis
  beforeAll(async () => {
    server = await startRedis(['--requirepass', 'E2e-secret-991'])
    spawnSync('redis-cli', ['-p', String(server.port), '-a', 'E2e-secret-991', '--no-auth-warning', 'ACL', 'SETUSER', 'nolist', 'on', '>nolist-pw', '~*', '+@all', '-lpush'])
  })
  afterAll(async () => server?.stop())

  it('a wrong password exits 3 naming authentication, password never printed', async () => {
    const r = await cli(['inspect', '--url', `redis://:Wrong-991@127.0.0.1:${server.port}`])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/authentication failed/)
    expect(`${r.stdout}${r.stderr}`).not.toContain('Wrong-991')
  })

  it('an ACL that denies LPUSH exits 3 naming the command', async () => {
    const r = await cli(['enqueue', 'list:acl', 'x', '--url', `redis://nolist:nolist-pw@127.0.0.1:${server.port}`])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/"lpush" command/i)
    expect(r.stderr).not.toContain('nolist-pw')
  })

  it('TLS to a plain port exits 3 and suggests redis://', async () => {
    const r = await cli(['inspect', '--url', `rediss://:E2e-secret-991@127.0.0.1:${server.port}`, '--timeout', '3s'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/TLS/)
    expect(r.stderr).not.toContain('E2e-secret-991')
  })

  it('Redis going away mid-enqueue exits 3 and says how many were sent', async () => {
    const victim = await startRedis()
    try {
      const payload = 'x'.repeat(2000)
      const run = cli(['enqueue', 'list:gone', payload, '--count', '400000', '--url', `redis://127.0.0.1:${victim.port}`], {timeoutMs: 120_000})
      // kill the server once part of the batch has landed
      const until = Date.now() + 60_000
      while (Date.now() < until) {
        const n = Number(spawnSync('redis-cli', ['-p', String(victim.port), 'LLEN', 'gone'], {encoding: 'utf8'}).stdout.trim())
        if (n > 0) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      victim.child.kill('SIGKILL')
      const r = await run
      expect(r.stderr).toMatch(/lost the connection|Connection is closed|refused/)
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/(\d+) of 400000/)
      expect(r.stderr).not.toMatch(/^Sent|success/i)
    } finally {
      await victim.stop()
    }
  }, 150_000)
})
