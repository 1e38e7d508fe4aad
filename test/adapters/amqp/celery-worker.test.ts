// Celery over RabbitMQ with the real Celery 5.2 worker (Debian python3-celery) on the other side:
// every write path of queuectl (enqueue plain, --delay, --priority; retry of a dead-lettered task;
// move; export → import) must reach the worker, which records the call it ran (args, kwargs, eta,
// priority) in a file. Tasks to retry, move and export are sent by Celery's own producer first.
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {AMQP_URL, declareQueue, dropQueue, eventually, stopWorker, uniqueQueue} from './helpers.js'

const PYTHON = '/usr/bin/python3'
const APP_DIR = fileURLToPath(new URL('.', import.meta.url))
const CELERY_URL = AMQP_URL.replace(/\/$/, '') + '//' // kombu spells the default vhost "//"
const run = promisify(execFile)
const hasCelery = existsSync(PYTHON) && (await run(PYTHON, ['-c', 'import celery']).then(() => true, () => false))

interface Recorded {
  args: unknown[]
  kwargs: Record<string, unknown>
  id: string
  retries: number
  eta: string | null
  expires: string | null
  priority: number | null
  timelimit: unknown
  ran_at: number
}

describe('amqp: queuectl → the real Celery 5.2 worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qctl-celery-worker-'))
  const env = isolatedHome()
  const plain = uniqueQueue('cw-plain')
  const prio = uniqueQueue('cw-prio')
  const dead = uniqueQueue('cw-dead')
  const park = uniqueQueue('cw-park')
  const park2 = uniqueQueue('cw-park2')
  const park3 = uniqueQueue('cw-park3')
  const consumed = [
    {name: plain},
    {name: prio, args: {'x-max-priority': 10}},
    {name: dead, args: {'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${dead}.dlq`}},
  ]
  const pyEnv = {...process.env, QCTL_BROKER: CELERY_URL, QCTL_QUEUES: JSON.stringify(consumed), C_FORCE_ROOT: '1', PYTHONDONTWRITEBYTECODE: '1'}
  const sentByCelery: Record<string, {id: string; path: string}> = {}
  let worker: ChildProcess | undefined
  let log = ''

  /** Celery's own producer sends qctl.record(path, 1, 'two', flag=True, n=None) to `queue`. */
  async function celerySends(key: string, queue: string, countdown?: number): Promise<void> {
    const path = join(dir, `${key}.json`)
    const args = [join(APP_DIR, 'celery_app.py'), 'record', queue, path, ...(countdown ? [String(countdown)] : [])]
    const {stdout} = await run(PYTHON, args, {env: pyEnv, timeout: 60_000})
    sentByCelery[key] = {id: (JSON.parse(stdout.trim().split('\n').pop()!) as {id: string}).id, path}
  }

  async function ran(path: string, ms = 60_000): Promise<Recorded> {
    await eventually(() => (existsSync(path) ? true : undefined), ms, `the Celery worker to run the task writing ${path}`).catch((error: Error) => {
      throw new Error(`${error.message}\nworker log:\n${log.slice(-3000)}`)
    })
    return JSON.parse(readFileSync(path, 'utf8')) as Recorded
  }

  it('has a real Celery to talk to (apt-get install -y python3-celery; it runs on /usr/bin/python3)', () => {
    expect(hasCelery).toBe(true)
  })

  beforeAll(async () => {
    await declareQueue(plain)
    await declareQueue(prio, {maxPriority: 10})
    await declareQueue(dead, {dlq: true})
    await declareQueue(park)
    await declareQueue(park2)
    await declareQueue(park3)
    // dead-lettered by RabbitMQ itself (basic.reject, requeue=false: x-death headers), before any worker runs
    await celerySends('retry-plain', dead)
    await celerySends('retry-eta', dead, 1)
    const conn = await amqp.connect(AMQP_URL)
    const ch = await conn.createChannel()
    for (let i = 0; i < 2; i++) {
      const m = await eventually(async () => (await ch.get(dead, {noAck: false})) || undefined, 10_000, 'the task Celery sent')
      ch.reject(m, false)
    }
    await ch.close()
    await conn.close()
    await celerySends('move', park, 2)
    await celerySends('export', park2)
    await celerySends('flavored', park3)

    worker = spawn(
      PYTHON,
      ['-m', 'celery', '-A', 'celery_app', 'worker', '-Q', consumed.map((q) => q.name).join(','), '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'],
      {cwd: APP_DIR, env: pyEnv, stdio: ['ignore', 'pipe', 'pipe']},
    )
    worker.stdout!.on('data', (d: Buffer) => (log += d.toString()))
    worker.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  }, 120_000)

  afterAll(async () => {
    await stopWorker(worker)
    for (const q of [plain, prio, dead, park, park2, park3]) await dropCeleryQueue(q).catch(() => {})
  }, 30_000)

  it('enqueue --flavor celery: the worker runs the task with exactly the args and kwargs given', async () => {
    const path = join(dir, 'plain.json')
    const cli = await runCli(['enqueue', plain, JSON.stringify({args: [path, 1, 'two'], kwargs: {flag: true, n: null}}), '--name', 'qctl.record', '--flavor', 'celery', '--url', AMQP_URL], {env})
    expect(cli.stderr).toBe('')
    expect(cli.code).toBe(0)
    const r = await ran(path)
    expect(r).toMatchObject({args: [path, 1, 'two'], kwargs: {flag: true, n: null}, id: cli.stdout.trim(), retries: 0, eta: null, expires: null})
  }, 90_000)

  it('enqueue --flavor celery --delay: sent at once with an eta, and the worker holds the task until then', async () => {
    const path = join(dir, 'delay.json')
    const sentAt = Date.now() / 1000
    const cli = await runCli(['enqueue', plain, JSON.stringify([path, 'later']), '--name', 'qctl.record', '--flavor', 'celery', '--delay', '4s', '--url', AMQP_URL], {env})
    expect(cli.stderr).toBe('')
    expect(cli.code).toBe(0)
    const r = await ran(path)
    expect(r.args).toEqual([path, 'later'])
    // what Celery writes: isoformat() of an aware UTC datetime
    expect(r.eta).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/)
    const eta = Date.parse(r.eta!) / 1000
    expect(eta).toBeGreaterThanOrEqual(sentAt + 3.9)
    expect(r.ran_at).toBeGreaterThanOrEqual(eta - 0.05)
  }, 90_000)

  it('enqueue --flavor celery --priority on a queue with x-max-priority: the worker sees the priority', async () => {
    const path = join(dir, 'prio.json')
    const cli = await runCli(['enqueue', prio, JSON.stringify({args: [path], kwargs: {p: 7}}), '--name', 'qctl.record', '--flavor', 'celery', '--priority', '7', '--url', AMQP_URL], {env})
    expect(cli.stderr).toBe('')
    expect(cli.code).toBe(0)
    const r = await ran(path)
    expect(r).toMatchObject({args: [path], kwargs: {p: 7}, priority: 7})
  }, 90_000)

  it('retry of tasks RabbitMQ dead-lettered: the worker runs them as Celery sent them (eta kept)', async () => {
    const cli = await runCli(['retry', dead, '--yes', '--idle', '1s', '--url', AMQP_URL], {env})
    expect(cli.code, cli.stderr).toBe(0)
    const plainRun = await ran(sentByCelery['retry-plain']!.path)
    expect(plainRun).toMatchObject({args: [sentByCelery['retry-plain']!.path, 1, 'two'], kwargs: {flag: true, n: null}, id: sentByCelery['retry-plain']!.id, retries: 0, eta: null, expires: null})
    expect(plainRun.timelimit).toEqual([null, null])
    const etaRun = await ran(sentByCelery['retry-eta']!.path)
    expect(etaRun).toMatchObject({args: [sentByCelery['retry-eta']!.path, 1, 'two'], kwargs: {flag: true, n: null}, id: sentByCelery['retry-eta']!.id})
    expect(etaRun.eta).toMatch(/\+00:00$/)
  }, 90_000)

  it('move of a task Celery sent with a countdown: the worker runs it, eta and id unchanged', async () => {
    const {path, id} = sentByCelery.move!
    const cli = await runCli(['move', park, plain, '--yes', '--idle', '1s', '--url', AMQP_URL], {env})
    expect(cli.code, cli.stderr).toBe(0)
    const r = await ran(path)
    expect(r).toMatchObject({args: [path, 1, 'two'], kwargs: {flag: true, n: null}, id, retries: 0})
    expect(r.eta).toMatch(/\+00:00$/)
  }, 90_000)

  it('move with ?flavor=celery in the URL sends the task as it is, not wrapped as the args of a new one', async () => {
    const {path, id} = sentByCelery.flavored!
    const cli = await runCli(['move', park3, plain, '--yes', '--idle', '1s', '--url', `${AMQP_URL}?flavor=celery`], {env})
    expect(cli.code, cli.stderr).toBe(0)
    const r = await ran(path)
    expect(r).toMatchObject({args: [path, 1, 'two'], kwargs: {flag: true, n: null}, id})
  }, 90_000)

  it('export → import of a task Celery sent: the worker runs it with exactly its args and kwargs', async () => {
    const {path, id} = sentByCelery.export!
    const exported = await runCli(['export', park2, '--consume', '--yes', '--idle', '1s', '--url', AMQP_URL], {env})
    expect(exported.code, exported.stderr).toBe(0)
    const file = join(dir, 'export.ndjson')
    writeFileSync(file, exported.stdout)
    expect(exported.stdout.trim().split('\n')).toHaveLength(1)
    const imported = await runCli(['import', plain, '--file', file, '--url', AMQP_URL], {env})
    expect(imported.code, imported.stderr).toBe(0)
    const r = await ran(path)
    expect(r).toMatchObject({args: [path, 1, 'two'], kwargs: {flag: true, n: null}, id, retries: 0, eta: null})
  }, 90_000)
})

async function dropCeleryQueue(q: string): Promise<void> {
  await dropQueue(q)
  const conn = await amqp.connect(AMQP_URL)
  const ch = await conn.createChannel()
  ch.on('error', () => {})
  await ch.deleteExchange(q).catch(() => {}) // Celery declares an exchange named after the queue
  await conn.close()
}
