// Celery over AMQP, both ways, with a real Celery (Debian python3-celery on /usr/bin/python3):
// a task Celery sends is decoded by peek/consume; a task we enqueue with flavor celery is run by a
// real Celery worker, which writes a file.
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {AMQP_URL, declareQueue, dropQueue, eventually, openAmqp, stopWorker, uniqueQueue} from './helpers.js'

const PYTHON = '/usr/bin/python3'
const APP_DIR = fileURLToPath(new URL('.', import.meta.url))
const CELERY_URL = AMQP_URL.replace(/\/$/, '') + '//' // kombu spells the default vhost "//"
const run = promisify(execFile)
const hasCelery = existsSync(PYTHON) && (await run(PYTHON, ['-c', 'import celery']).then(() => true, () => false))
const pyEnv = {...process.env, QCTL_BROKER: CELERY_URL, C_FORCE_ROOT: '1', PYTHONDONTWRITEBYTECODE: '1'}

async function dropCeleryQueue(q: string): Promise<void> {
  await dropQueue(q)
  const conn = await amqp.connect(AMQP_URL)
  const ch = await conn.createChannel()
  ch.on('error', () => {})
  await ch.deleteExchange(q).catch(() => {}) // Celery declares an exchange named after the queue
  await conn.close()
}

describe('amqp: Celery interop (python3-celery)', () => {
  let broker: Broker
  const queues: string[] = []
  const workers: ChildProcess[] = []
  const dir = mkdtempSync(join(tmpdir(), 'qctl-celery-'))

  beforeAll(async () => {
    broker = await openAmqp()
  })

  it('has a real Celery to talk to (apt-get install -y python3-celery; it runs on /usr/bin/python3)', () => {
    expect(hasCelery).toBe(true)
  })

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)))
    await broker?.close()
    for (const q of queues) await dropCeleryQueue(q).catch(() => {})
  }, 30_000)

  it('a task sent by Celery is decoded: task name, id, args, kwargs', async () => {
    const q = await declareQueue(uniqueQueue('celery-in'))
    queues.push(q)
    const {stdout} = await run(PYTHON, [join(APP_DIR, 'celery_app.py'), 'send', q, '/tmp/never-written', 'hello'], {env: pyEnv, timeout: 60_000})
    const {id} = JSON.parse(stdout.trim().split('\n').pop()!) as {id: string}

    const [peeked] = await broker.peek(q, {limit: 5})
    expect(peeked).toBeDefined()
    expect(peeked!.name).toBe('qctl.write_file')
    expect(peeked!.id).toBe(id)
    expect(peeked!.undecodable).toBeUndefined()
    expect(peeked!.body).toMatchObject({args: ['/tmp/never-written', 'hello'], kwargs: {suffix: '!'}, retries: 0})
    expect(peeked!.headers.task).toBe('qctl.write_file')
    expect(peeked!.headers.argsrepr).toContain('hello')
    expect(peeked!.contentType).toBe('application/json')

    // and it is still there, whole, for Celery
    const leases: Parameters<Parameters<Broker['consume']>[1]>[0][] = []
    const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 1})
    await eventually(() => (leases.length === 1 ? true : undefined), 10_000, 'the task delivered')
    await sub.close()
    expect(leases[0]!.message.name).toBe('qctl.write_file')
    await leases[0]!.ack()
  }, 90_000)

  it('tasks enqueued with flavor celery (adapter and `queue enqueue --flavor celery`) are run by a real Celery worker', async () => {
    const q = await declareQueue(uniqueQueue('celery-out'))
    queues.push(q)
    const target = join(dir, 'ran.txt')
    const ids = await broker.enqueue(q, [{name: 'qctl.write_file', payload: JSON.stringify({args: [target, 'from queuectl'], kwargs: {suffix: '?'}})}], {flavor: 'celery'})
    expect(ids).toHaveLength(1)
    // and the same through the command line, as a user would (needs npm run build)
    const viaCli = join(dir, 'ran-cli.txt')
    const cli = await runCli(['enqueue', q, JSON.stringify([viaCli, 'from the CLI']), '--name', 'qctl.write_file', '--flavor', 'celery', '--url', AMQP_URL], {env: isolatedHome()})
    expect(cli.code).toBe(0)

    // what we wrote is what Celery itself would have written
    const [peeked] = await broker.peek(q, {limit: 2})
    expect(peeked!.id).toBe(ids[0])
    expect(peeked!.headers.lang).toBe('py')
    expect(peeked!.body).toMatchObject({args: [target, 'from queuectl'], kwargs: {suffix: '?'}})

    let log = ''
    const worker = spawn(
      PYTHON,
      ['-m', 'celery', '-A', 'celery_app', 'worker', '-Q', q, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'],
      {cwd: APP_DIR, env: pyEnv, stdio: ['ignore', 'pipe', 'pipe']},
    )
    workers.push(worker)
    worker.stdout!.on('data', (d: Buffer) => (log += d.toString()))
    worker.stderr!.on('data', (d: Buffer) => (log += d.toString()))

    await eventually(() => (existsSync(target) ? true : undefined), 60_000, `the Celery worker to run the task (log: ${log.slice(-500)})`).catch((error: Error) => {
      throw new Error(`${error.message}\n${log.slice(-2000)}`)
    })
    expect(readFileSync(target, 'utf8')).toBe('from queuectl?')
    await eventually(() => (existsSync(viaCli) ? true : undefined), 30_000, 'the worker to run the task sent by the CLI')
    expect(readFileSync(viaCli, 'utf8')).toBe('from the CLI')
    // the worker logs success just after the task body returns
    const succeeded = new RegExp(`Task qctl.write_file\\[${ids[0]}\\] succeeded`)
    await eventually(() => (succeeded.test(log) ? true : undefined), 15_000, 'the worker to log success')
  }, 120_000)

  it('flavor celery refuses a message without a task name or with a non-JSON payload', async () => {
    const q = await declareQueue(uniqueQueue('celery-bad'))
    queues.push(q)
    await expect(broker.enqueue(q, [{payload: '[1]'}], {flavor: 'celery'})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/no task name/)})
    await expect(broker.enqueue(q, [{name: 't', payload: 'not json'}], {flavor: 'celery'})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/must be JSON/)})
    await expect(broker.enqueue(q, [{name: 't', payload: '[]'}], {flavor: 'sidekiq'})).rejects.toMatchObject({exitCode: 4})
  })
})
