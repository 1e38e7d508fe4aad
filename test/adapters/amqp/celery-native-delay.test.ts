// Celery 5.5's native delayed delivery (issue 28), on a private vhost holding the exchanges, queues and
// bindings Celery 5.5 declares (celery55.ts, derived from kombu 5.5.4 / celery 5.5.3): tasks sitting
// in the delay queues count as delayed in their target queue, and `enqueue --delay` publishes what
// Celery 5.5 publishes; the real Celery 5.2 worker then runs the task when it arrives.
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {nativeDelayRoutingKey, safeToRead, topicMatches} from '../../../src/adapters/amqp/celery-delay.js'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {createVhost, declareCelery55Queue, declareNativeDelayedDelivery, withChannel} from './celery55.js'
import {eventually, openAmqp, PREFIX, stopWorker} from './helpers.js'

const PYTHON = '/usr/bin/python3'
const APP_DIR = fileURLToPath(new URL('.', import.meta.url))
const run = promisify(execFile)
const hasCelery = existsSync(PYTHON) && (await run(PYTHON, ['-c', 'import celery']).then(() => true, () => false))

describe('celery 5.5 native delayed delivery: routing keys', () => {
  it("are the countdown's 28 bits, highest first, then the queue's routing key (kombu 5.5.4 calculate_routing_key)", () => {
    expect(nativeDelayRoutingKey(5, 'emails')).toBe(`${'0.'.repeat(25)}1.0.1.emails`)
    expect(nativeDelayRoutingKey(2 ** 28 - 1, 'q')).toBe(`${'1.'.repeat(28)}q`)
  })

  it('topic bindings match as RabbitMQ matches them', () => {
    expect(topicMatches('#.emails', `${'0.'.repeat(27)}1.emails`)).toBe(true)
    expect(topicMatches('#.emails', `${'0.'.repeat(27)}1.other`)).toBe(false)
    expect(topicMatches('*.*.1.#', '0.0.1.0.q')).toBe(true)
    expect(topicMatches('*.*.1.#', '0.1.0.0.q')).toBe(false)
    expect(topicMatches('#', 'a.b')).toBe(true)
  })

  it('delay queues are read (to share their tasks out by routing key) only where a return counts no delivery that could dead-letter them early', () => {
    const q = (type: string, args: Record<string, unknown> = {}) => ({name: 'celery_delayed_3', vhost: '/', type, arguments: args})
    expect(safeToRead(q('classic'), '4.1.0')).toBe(true)
    expect(safeToRead(q('quorum'), '3.13.7')).toBe(true)
    // RabbitMQ 4 gives quorum queues a delivery limit of 20 by default
    expect(safeToRead(q('quorum'), '4.0.5')).toBe(false)
    expect(safeToRead(q('quorum', {'x-delivery-limit': 5}), '3.13.7')).toBe(false)
  })
})

describe('amqp: Celery 5.5 native delayed delivery (source-derived fixtures) with the real Celery 5.2 worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qctl-celery55-'))
  const env = isolatedHome()
  const a = `${PREFIX}-c55-a`
  const b = `${PREFIX}-c55-b`
  const plain = `${PREFIX}-c55-direct`
  const park = `${PREFIX}-c55-park`
  let vhost: Awaited<ReturnType<typeof createVhost>>
  let broker: Broker
  let worker: ChildProcess | undefined
  let log = ''
  const pyEnv = () => ({...process.env, QCTL_BROKER: vhost.celeryUrl, QCTL_QUEUES: JSON.stringify([{name: a, exchange_type: 'topic'}]), C_FORCE_ROOT: '1', PYTHONDONTWRITEBYTECODE: '1'})

  it('has a real Celery to talk to (apt-get install -y python3-celery; it runs on /usr/bin/python3)', () => {
    expect(hasCelery).toBe(true)
  })

  beforeAll(async () => {
    vhost = await createVhost('celery55')
    await withChannel(vhost.url, async (ch) => {
      await declareNativeDelayedDelivery(ch, 'quorum')
      await declareCelery55Queue(ch, a, {bindForDelay: true})
      await declareCelery55Queue(ch, b, {bindForDelay: true})
      await declareCelery55Queue(ch, plain, {bindForDelay: false})
      await ch.assertQueue(park, {durable: true}) // Celery 5.2's producer declares its direct exchange
    })
    broker = await openAmqp(encodeURIComponent(vhost.vhost))
  }, 60_000)

  afterAll(async () => {
    await stopWorker(worker)
    await broker?.close()
    await vhost?.drop()
  }, 30_000)

  it('tasks Celery 5.5 delayed sit in the delay queues and count as delayed in their own target queue', async () => {
    const send = (queue: string, countdown: number) => run(PYTHON, [join(APP_DIR, 'celery_app.py'), 'record55', queue, join(dir, 'never.json'), String(countdown)], {env: pyEnv(), timeout: 60_000})
    await send(a, 600)
    await send(a, 900)
    await send(b, 700)
    const sa = await broker.stats(a)
    expect(sa.counts).toMatchObject({waiting: 0, delayed: 2})
    expect((await broker.stats(b)).counts).toMatchObject({waiting: 0, delayed: 1})
    expect((await broker.stats(plain)).counts.delayed).toBeUndefined()
    // and through the CLI, as a user sees it
    const cli = await runCli(['inspect', a, '--json', '--url', vhost.url], {env})
    expect(cli.code, cli.stderr).toBe(0)
    expect(cli.stdout).toMatch(/"delayed":\s*2/)
  }, 90_000)

  it('enqueue --flavor celery --delay publishes what Celery 5.5 publishes, and the worker runs the task when it arrives', async () => {
    const path = join(dir, 'native.json')
    const sentAt = Date.now() / 1000
    const cli = await runCli(['enqueue', a, JSON.stringify({args: [path, 'native'], kwargs: {k: [1, 2]}}), '--name', 'qctl.record', '--flavor', 'celery', '--delay', '5s', '--url', vhost.url], {env})
    expect(cli.code, cli.stderr).toBe(0)
    // 5 s = bits 101: first the 4 s queue, celery_delayed_2, with kombu's routing key
    const held = await withChannel(vhost.url, async (ch) => {
      const m = await ch.get('celery_delayed_2', {noAck: false})
      if (m) ch.nack(m, false, true)
      return m
    })
    expect(held && held.fields.routingKey).toBe(`${'0.'.repeat(25)}1.0.1.${a}`)
    expect(held && held.properties.headers?.id).toBe(cli.stdout.trim())
    expect(held && String(held.properties.headers?.eta)).toMatch(/\+00:00$/)
    expect((await broker.stats(a)).counts).toMatchObject({waiting: 0, delayed: 3})

    worker = spawn(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'worker', '-Q', a, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'], {
      cwd: APP_DIR,
      env: pyEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    worker.stdout!.on('data', (d: Buffer) => (log += d.toString()))
    worker.stderr!.on('data', (d: Buffer) => (log += d.toString()))
    await eventually(() => (existsSync(path) ? true : undefined), 60_000, 'the worker to run the delayed task').catch((error: Error) => {
      throw new Error(`${error.message}\nworker log:\n${log.slice(-3000)}`)
    })
    const r = JSON.parse(readFileSync(path, 'utf8')) as {args: unknown[]; kwargs: unknown; eta: string; ran_at: number}
    expect(r.args).toEqual([path, 'native'])
    expect(r.kwargs).toEqual({k: [1, 2]})
    // it went through the delay queues: it reached the worker only once due
    expect(r.ran_at).toBeGreaterThanOrEqual(sentAt + 4.5)
    expect(Date.parse(r.eta) / 1000).toBeGreaterThanOrEqual(sentAt + 4.9)
  }, 120_000)

  it('move of a task whose eta is still ahead sends it through the delay queues again, as Celery 5.5 sends an eta task; it runs when due', async () => {
    const path = join(dir, 'moved.json')
    const sentAt = Date.now() / 1000
    await run(PYTHON, [join(APP_DIR, 'celery_app.py'), 'record', park, path, '8'], {env: pyEnv(), timeout: 60_000})
    const before = (await broker.stats(a)).counts.delayed!
    const cli = await runCli(['move', park, a, '--yes', '--idle', '1s', '--url', vhost.url], {env})
    expect(cli.code, cli.stderr).toBe(0)
    expect((await broker.stats(a)).counts).toMatchObject({waiting: 0, delayed: before + 1})
    await eventually(() => (existsSync(path) ? true : undefined), 60_000, 'the worker to run the moved task').catch((error: Error) => {
      throw new Error(`${error.message}\nworker log:\n${log.slice(-3000)}`)
    })
    const r = JSON.parse(readFileSync(path, 'utf8')) as {args: unknown[]; kwargs: unknown; ran_at: number}
    expect(r.args).toEqual([path, 1, 'two'])
    expect(r.kwargs).toEqual({flag: true, n: null})
    expect(r.ran_at).toBeGreaterThanOrEqual(sentAt + 7.5)
  }, 120_000)

  it('a queue not bound for native delayed delivery gets the task at once, with an eta the worker holds (as Celery 5.5 does for a direct exchange)', async () => {
    const cli = await runCli(['enqueue', plain, '[1]', '--name', 'qctl.record', '--flavor', 'celery', '--delay', '60s', '--url', vhost.url], {env})
    expect(cli.code, cli.stderr).toBe(0)
    const [m] = await broker.peek(plain, {limit: 1})
    expect(m).toMatchObject({id: cli.stdout.trim(), name: 'qctl.record'})
    expect(m!.availableAt).toBeGreaterThan(Date.now() + 50_000)
  }, 60_000)
})
