// Celery on Redis (kombu's list layout), both ways, with a real Celery 5.2 (Debian python3-celery):
// tasks Celery sent in several states show with the counts and fields Celery itself reports; a
// task enqueued by `queue enqueue celery:NAME` (into a queue that did not exist) is run by a real
// Celery worker, which writes a file. Bad input: non-JSON items, pickled bodies, unrunnable args.
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {LIB_DB, PYTHON, REDIS_HOST, Worker, canRun, libUrl, openLib, runJson, uniqueName, until} from './helpers.js'

const DB = LIB_DB.celery
const URL = libUrl(DB)
const env = {QCTL_BROKER: URL, C_FORCE_ROOT: '1', PYTHONDONTWRITEBYTECODE: '1'}
const hasCelery = await canRun(PYTHON, ['-c', 'import celery, redis'])
const home = isolatedHome()
const cli = (args: string[]) => runCli([...args, '--url', URL], {env: home, timeoutMs: 90_000})
const app = (...args: string[]) => runJson<Record<string, unknown>>(PYTHON, ['celery_redis_app.py', ...args], env)
const SEP = '\x06\x16'

describe('redis celery interop (python3-celery)', {timeout: 120_000}, () => {
  let broker: Broker
  let raw: Redis
  const queues: string[] = []
  const workers: Worker[] = []
  const dir = mkdtempSync(join(tmpdir(), 'qctl-celery-redis-'))
  const queue = (hint: string) => {
    const q = uniqueName(hint)
    queues.push(q)
    return q
  }

  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    broker = await openLib(DB)
  })

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    await broker?.close()
    for (const q of queues) {
      await raw.del(q, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((p) => `${q}${SEP}${p}`), `_kombu.binding.${q}`)
    }
    // what our workers left: their unacked entries, pidbox bindings
    for (const [tag, value] of Object.entries(await raw.hgetall('unacked'))) {
      if (queues.some((q) => value.includes(q))) await raw.multi().hdel('unacked', tag).zrem('unacked_index', tag).exec()
    }
    raw.disconnect()
  }, 120_000)

  it('has a real Celery to talk to (apt-get install -y python3-celery; it runs on /usr/bin/python3)', () => {
    expect(hasCelery).toBe(true)
  })

  it('tasks Celery sent (plain, eta, retried, priority, pickled) show with Celery’s count and fields', async () => {
    const q = queue('sent')
    const {ids, count} = (await app('send', q)) as {ids: Record<string, string>; count: number}
    expect(count).toBe(5)

    const stats = await broker.stats(`celery:${q}`)
    expect(stats.kind).toBe('celery')
    expect(stats.counts).toEqual({waiting: count, inflight: 0})
    expect(stats.details).toEqual({prioritySubQueues: {'6': 1}}) // folded into the queue's count

    const peeked = await broker.peek(`celery:${q}`, {limit: 10})
    expect(peeked).toHaveLength(5)
    // served order: the queue itself oldest first, then the priority-6 sub-queue
    expect(peeked.map((m) => m.id)).toEqual([ids.plain, ids.eta, ids.retried, ids.pickle, ids.priority])
    const byId = new Map(peeked.map((m) => [m.id, m]))
    const plain = byId.get(ids.plain!)!
    expect(plain).toMatchObject({name: 'qctl.write_file', queue: `celery:${q}`, state: 'waiting', attempts: 0, contentType: 'application/json'})
    expect(plain.body).toMatchObject({args: ['/tmp/qctl-never-1', 'hello'], kwargs: {suffix: '!'}, retries: 0})
    expect(plain.headers.argsrepr).toBe("['/tmp/qctl-never-1', 'hello']")
    const eta = byId.get(ids.eta!)!
    expect(eta.availableAt! - Date.now()).toBeGreaterThan(3_500_000)
    expect((eta.body as {eta: string}).eta).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(byId.get(ids.retried!)!).toMatchObject({attempts: 2, body: {retries: 2}})
    expect(byId.get(ids.priority!)!.priority).toBe(6)
    const pickled = byId.get(ids.pickle!)!
    expect(pickled.name).toBe('qctl.write_file') // the headers are still JSON
    expect(pickled.undecodable).toMatch(/x-python-serialize.*never unpickled/)
    expect(pickled.body).toBeUndefined()
  }, 120_000)

  it('a list item that is not JSON is listed as undecodable; the rest of the listing works', async () => {
    const q = queue('garbage')
    await app('send', q)
    await raw.lpush(q, 'this is not json {')
    const peeked = await broker.peek(`celery:${q}`, {limit: 10})
    expect(peeked).toHaveLength(6)
    const bad = peeked.find((m) => m.payload.toString() === 'this is not json {')!
    expect(bad.undecodable).toMatch(/not JSON/)
    expect(peeked.filter((m) => m.undecodable === undefined)).toHaveLength(4)
    expect((await app('count', q)).count).toBe(6)
    expect((await broker.stats(`celery:${q}`)).counts.waiting).toBe(6)

    const shown = await cli(['inspect', `celery:${q}`, '--peek', '10'])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('<undecodable: not a kombu message')
    expect(shown.stdout).toContain('qctl.write_file')
  }, 120_000)

  it('queue enqueue celery:NAME makes the queue and a task a real Celery worker runs; an eta task it holds shows in flight', async () => {
    const q = queue('run')
    const held = queue('held')
    const target = join(dir, 'ran.txt')
    expect(await raw.exists(q, `_kombu.binding.${q}`)).toBe(0)

    const sent = await cli(['enqueue', `celery:${q}`, '--name', 'qctl.write_file', JSON.stringify([target, 'from queuectl'])])
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    const id = sent.stdout.trim()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect((await app('count', q)).count).toBe(1)

    // `queue inspect` with no flag finds it, and no kombu control queue (pidbox) besides
    const listed = await cli(['inspect', '--json'])
    expect(listed.code).toBe(0)
    const all = JSON.parse(listed.stdout) as {queues: {name: string; kind: string; counts: {waiting: number}}[]}
    expect(all.queues.find((s) => s.name === `celery:${q}`)).toMatchObject({kind: 'celery', counts: {waiting: 1}})
    expect(all.queues.some((s) => s.name.includes('pidbox'))).toBe(false)

    const {id: heldId} = (await app('send-eta', held)) as {id: string}
    const worker = new Worker(
      PYTHON,
      ['-m', 'celery', '-A', 'celery_redis_app', 'worker', '-Q', `${q},${held}`, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'],
      env,
    )
    workers.push(worker)
    await until(`the Celery worker to run the task (log: ${worker.tail(300)})`, () => (existsSync(target) ? true : undefined), 100_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.tail()}`)
    })
    expect(readFileSync(target, 'utf8')).toBe('from queuectl')
    await until('the worker log line', () => (worker.log.includes(`Task qctl.write_file[${id}] succeeded`) ? true : undefined), 10_000)

    // the eta task: the worker took it and holds it (kombu's unacked hash) — Celery says so too
    const stats = await until('the eta task in flight', async () => {
      const s = await broker.stats(`celery:${held}`)
      return s.counts.inflight === 1 ? s : undefined
    })
    expect(stats.counts.waiting).toBe(0)
    const [inflight] = await broker.peek(`celery:${held}`, {limit: 5, state: 'inflight'})
    expect(inflight).toMatchObject({id: heldId, name: 'qctl.write_file', state: 'inflight', attempts: 1})
    expect(inflight!.availableAt! - Date.now()).toBeGreaterThan(3_000_000)
    const seen = await until('celery inspect to report the held task', async () => {
      const r = (await app('scheduled', heldId)) as {held: boolean}
      return r.held ? r : undefined
    })
    expect(seen.held).toBe(true)
  }, 200_000)

  it('job delete and purge --where delete exactly the waiting tasks named (LREM of their envelope): a real worker then runs only the others', async () => {
    const q = queue('del')
    const file = (n: string) => join(dir, `del-${n}.txt`)
    const {id: keep} = (await app('send-one', q, file('keep'), 'kept')) as {id: string}
    const {id: byId} = (await app('send-one', q, file('by-id'), 'deleted by id')) as {id: string}
    const {id: byWhere} = (await app('send-one', q, file('by-where'), 'drop-me')) as {id: string}
    const {id: alsoKept} = (await app('send-one', q, file('also'), 'also kept')) as {id: string}
    expect((await app('count', q)).count).toBe(4)

    const one = await cli(['job', 'delete', `celery:${q}`, byId, '--yes'])
    expect(one.stderr).toBe('')
    expect(one.code).toBe(0)
    const dry = await cli(['purge', `celery:${q}`, '--where', 'body.args[1] == "drop-me"', '--dry-run'])
    expect(dry.stdout).toContain('would remove 1 waiting job')
    expect(dry.stdout).toContain(byWhere)
    const where = await cli(['purge', `celery:${q}`, '--where', 'body.args[1] == "drop-me"', '--yes'])
    expect(where.code, where.stderr).toBe(0)
    expect(where.stdout).toContain('removed 1 waiting job')
    // Celery itself counts what is left; the binding stays
    expect((await app('count', q)).count).toBe(2)
    expect((await broker.peek(`celery:${q}`, {limit: 10})).map((m) => m.id)).toEqual([keep, alsoKept])
    expect(await raw.exists(`_kombu.binding.${q}`)).toBe(1)
    // an id no longer waiting is skipped; a task a worker holds (in flight) is refused
    expect(await broker.remove(`celery:${q}`, [byId], 'waiting')).toBe(0)
    await expect(broker.remove(`celery:${q}`, [keep], 'inflight')).rejects.toThrow(/in-?flight/)

    const worker = new Worker(PYTHON, ['-m', 'celery', '-A', 'celery_redis_app', 'worker', '-Q', q, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'], env)
    workers.push(worker)
    await until('the worker to run the two kept tasks', () => (existsSync(file('keep')) && existsSync(file('also')) ? true : undefined), 100_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.tail()}`)
    })
    await until('the worker log lines', () => (worker.log.includes(`Task qctl.write_file[${alsoKept}] succeeded`) ? true : undefined), 10_000)
    expect(readFileSync(file('keep'), 'utf8')).toBe('kept!')
    expect(existsSync(file('by-id'))).toBe(false)
    expect(existsSync(file('by-where'))).toBe(false)
    expect(worker.log).not.toContain(byId)
    expect(worker.log).not.toContain(byWhere)
    expect((await app('count', q)).count).toBe(0)
  }, 200_000)

  it('export → import of a task Celery sent: the worker runs it with its id, args and kwargs (not the body as args)', async () => {
    const from = queue('export')
    const to = queue('import')
    const target = join(dir, 'imported.txt')
    const {id} = (await app('send-one', from, target, 'exported')) as {id: string}
    const exported = await cli(['export', `celery:${from}`])
    expect(exported.code, exported.stderr).toBe(0)
    const file = join(dir, 'export.ndjson')
    writeFileSync(file, exported.stdout)
    const imported = await cli(['import', `celery:${to}`, '--create', '--file', file])
    expect(imported.code, imported.stderr).toBe(0)
    const worker = new Worker(PYTHON, ['-m', 'celery', '-A', 'celery_redis_app', 'worker', '-Q', to, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'], env)
    workers.push(worker)
    await until(`the Celery worker to run the imported task`, () => (worker.log.includes(`Task qctl.write_file[${id}]`) ? true : undefined), 100_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.tail()}`)
    })
    await until('the task to write its file', () => (existsSync(target) ? true : undefined), 10_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.tail()}`)
    })
    expect(readFileSync(target, 'utf8')).toBe('exported!')
  }, 200_000)

  it('refuses arguments Celery could not take (exit 2) before anything is sent', async () => {
    const q = queue('bad')
    for (const [payload, why] of [
      ['not json', /must be JSON/],
      ['{"args": 5}', /"args" of a Celery task payload must be an array/],
    ] as const) {
      const r = await cli(['enqueue', `celery:${q}`, '--name', 'qctl.write_file', payload])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(why)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    const noName = await cli(['enqueue', `celery:${q}`, '[1, 2]'])
    expect(noName.code).toBe(2)
    expect(noName.stderr).toMatch(/--name/)
    // nothing sent, nothing made
    expect(await raw.exists(q, `_kombu.binding.${q}`)).toBe(0)
    // and the generic form --flavor celery takes the same path
    const flavored = await cli(['enqueue', q, '--flavor', 'celery', '--name', 'qctl.write_file', 'nope'])
    expect(flavored.code).toBe(2)
    expect(await raw.exists(q)).toBe(0)
  }, 120_000)

  it('purge empties the lists but keeps the binding; consume is refused, naming the worker to run', async () => {
    const q = queue('bare')
    await app('send', q)
    const stats = await broker.stats(`celery:${q}`)
    expect(stats.counts.waiting).toBe(5)
    await expect(broker.consume(`celery:${q}`, () => {}, {prefetch: 1})).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/celery -A <app> worker -Q/)})
    expect(await broker.purge(`celery:${q}`, 'waiting')).toBe(5)
    expect((await app('count', q)).count).toBe(0)
    // the binding stays: the queue still exists, empty, as Celery sees it
    expect((await broker.stats(`celery:${q}`)).counts.waiting).toBe(0)
  }, 120_000)
})
