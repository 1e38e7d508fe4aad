// queue workers with the real libraries' workers running, each compared with what the library's
// own API reports (Sidekiq::ProcessSet, RQ's Worker.all, BullMQ/Bull getWorkers, the RabbitMQ
// management API, JetStream consumer info), and a Sidekiq process killed with kill -9 shown stale.
import {randomUUID} from 'node:crypto'
import {Redis} from 'ioredis'
import {afterAll, describe, expect, it} from 'vitest'
import type {WorkerInfo} from '../../src/broker/contract.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {fileURLToPath} from 'node:url'
import {AMQP_URL, dropQueue} from '../adapters/amqp/helpers.js'
import {NATS_URL, admin as natsAdmin, dropStream} from '../adapters/nats/helpers.js'
import {LIB_DB, PYTHON, REDIS_HOST, RUBY, Worker, canRun, libUrl, runJson, uniqueName, until} from '../adapters/redis-libs/helpers.js'

const home = isolatedHome()
interface Out {
  workers: WorkerInfo[]
  notes: string[]
}
async function workers(url: string, ...args: string[]): Promise<Out> {
  const r = await runCli(['workers', ...args, '--url', url, '--json'], {env: home, input: '', timeoutMs: 60_000})
  expect(r.stderr, r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as Out
}
const hasSidekiq = await canRun(RUBY, ['-e', 'require "sidekiq"'])
const hasRq = await canRun(PYTHON, ['-c', 'import rq'])
const hasCelery = await canRun(PYTHON, ['-c', 'import celery'])
const AMQP_APP_DIR = fileURLToPath(new URL('../adapters/amqp/', import.meta.url))

describe('queue workers on Redis job libraries', {timeout: 180_000}, () => {
  const running: Worker[] = []
  afterAll(async () => {
    await Promise.all(running.map((w) => w.stop()))
  })

  it.runIf(hasSidekiq)('a busy Sidekiq process as Sidekiq::ProcessSet shows it; killed with -9 it turns STALE', async () => {
    const url = libUrl(LIB_DB.sidekiq)
    const raw = new Redis(url)
    const q = uniqueName('wk-sidekiq')
    const release = `qctl-wk-release-${q}`
    try {
      const w = new Worker(RUBY, ['-S', 'sidekiq', '-r', './sidekiq_app.rb', '-q', q, '-c', '3', '-t', '2'], {REDIS_URL: url}, 120)
      running.push(w)
      const jid = randomUUID().replace(/-/g, '').slice(0, 24)
      await raw.sadd('queues', q)
      await raw.lpush(`queue:${q}`, JSON.stringify({class: 'QctlBlock', args: [release], queue: q, jid, retry: false, created_at: Date.now() / 1000, enqueued_at: Date.now() / 1000}))
      const theirs = await until(`Sidekiq to take the job (log: ${w.tail(300)})`, async () => {
        const ps = await runJson<{identity: string; pid: number; busy: number; queues: string[]}[]>(RUBY, ['-e', 'require "sidekiq/api"; require "json"; puts Sidekiq::ProcessSet.new.map { |p| {identity: p["identity"], pid: p["pid"], busy: p["busy"], queues: p["queues"]} }.to_json'], {REDIS_URL: url})
        const p = ps.find((x) => x.queues.includes(q))
        return p && p.busy === 1 ? p : undefined
      }, 60_000)
      const out = await workers(url, `sidekiq:${q}`)
      expect(out.workers).toHaveLength(1)
      const mine = out.workers[0]!
      expect(mine).toMatchObject({kind: 'sidekiq', name: theirs.identity, pid: theirs.pid, busy: 1, concurrency: 3, queues: [`sidekiq:${q}`]})
      expect(mine.current).toEqual([expect.objectContaining({id: jid, name: 'QctlBlock', queue: `sidekiq:${q}`})])
      expect(mine.version).toBeUndefined() // Sidekiq 6 records no version (7 does)
      expect(mine.stale).toBeUndefined()
      process.kill(theirs.pid, 'SIGKILL')
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const after = await workers(url, `sidekiq:${q}`, '--stale-after', '2s')
      expect(after.workers).toHaveLength(1)
      expect(after.workers[0]).toMatchObject({name: theirs.identity, stale: true})
      const table = await runCli(['workers', `sidekiq:${q}`, '--stale-after', '2s', '--url', url], {env: home, input: ''})
      expect(table.stdout).toMatch(/STALE/)
      await raw.del(theirs.identity, `${theirs.identity}:work`)
      await raw.srem('processes', theirs.identity)
    } finally {
      await raw.set(release, '1', 'EX', 60)
      await raw.del(`queue:${q}`)
      await raw.srem('queues', q)
      raw.disconnect()
    }
  })

  it.runIf(hasRq)('a busy RQ worker and its current job as RQ\'s Worker.all shows them', async () => {
    const url = libUrl(LIB_DB.rq)
    const q = uniqueName('wk-rq')
    const release = `qctl-rq-release-${q}`
    const raw = new Redis(url)
    try {
      const {id} = await runJson<{id: string}>(PYTHON, ['rq_helper.py', 'enqueue', q, 'block', release], {QCTL_REDIS_URL: url})
      const w = new Worker(PYTHON, ['-m', 'rq.cli', 'worker', '-u', url, q], {QCTL_REDIS_URL: url}, 120)
      running.push(w)
      const script = `import json; from redis import Redis; from rq import Worker; c = Redis.from_url('${url}'); print(json.dumps([{'name': w.name, 'pid': w.pid, 'state': w.get_state(), 'job': w.get_current_job_id(), 'queues': w.queue_names()} for w in Worker.all(connection=c)]))`
      const theirs = await until(`RQ to take the job (log: ${w.tail(300)})`, async () => {
        const all = await runJson<{name: string; pid: number; state: string; job: string | null; queues: string[]}[]>(PYTHON, ['-c', script])
        const mine = all.find((x) => x.queues.includes(q))
        return mine?.state === 'busy' && mine.job === id ? mine : undefined
      }, 60_000)
      const out = await workers(url, `rq:${q}`)
      expect(out.workers).toHaveLength(1)
      expect(out.workers[0]).toMatchObject({kind: 'rq', name: theirs.name, pid: theirs.pid, busy: 1, queues: [`rq:${q}`], current: [{id}]})
      expect(out.workers[0]!.lastSeenAt).toBeGreaterThan(Date.now() - 600_000)
    } finally {
      await raw.set(release, '1', 'EX', 60)
      raw.disconnect()
    }
  })

  it.runIf(hasCelery)('a Celery worker on Redis, through Celery\'s inspect mailbox, as celery inspect stats shows it', async () => {
    const url = libUrl(LIB_DB.celery)
    const q = uniqueName('wk-celery')
    const node = `wtlife${process.pid}@wk`
    const env = {QCTL_BROKER: url, C_FORCE_ROOT: '1', PYTHONDONTWRITEBYTECODE: '1'}
    const w = new Worker(PYTHON, ['-m', 'celery', '-A', 'celery_redis_app', 'worker', '-n', node, '-Q', q, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'], env, 120)
    running.push(w)
    const theirs = await until(`celery inspect to see the worker (log: ${w.tail(300)})`, async () => {
      const out = await runJson<Record<string, {pid: number}>>(PYTHON, ['-m', 'celery', '-A', 'celery_redis_app', 'inspect', 'stats', '-d', node, '--json'], env).catch(() => undefined)
      return out?.[node]
    }, 60_000)
    const out = await workers(url, `celery:${q}`)
    expect(out.workers).toHaveLength(1)
    expect(out.workers[0]).toMatchObject({kind: 'celery', name: node, host: 'wk', pid: theirs.pid, queues: [`celery:${q}`], busy: 0, concurrency: 1})
    await w.stop()
    const gone = await workers(url, `celery:${q}`)
    expect(gone.workers).toEqual([])
  })

  it('a named BullMQ worker and a Bull worker, as their getWorkers() list them', async () => {
    const url = `redis://${REDIS_HOST}/0`
    const {Queue, Worker: MqWorker} = await import('bullmq')
    const Bull = (await import('bull')).default
    const mq = uniqueName('wk-bullmq')
    const b = uniqueName('wk-bull')
    const connection = {host: REDIS_HOST.split(':')[0], port: Number(REDIS_HOST.split(':')[1])}
    const queue = new Queue(mq, {connection})
    await queue.waitUntilReady()
    const worker = new MqWorker(mq, async () => {}, {connection, name: 'wt-life-mq', concurrency: 4})
    const bull = new Bull(b, {redis: connection})
    void bull.process(async () => {})
    try {
      await worker.waitUntilReady()
      await until('BullMQ getWorkers to list it', async () => ((await queue.getWorkers()).length === 1 ? true : undefined))
      await until('Bull getWorkers to list it', async () => ((await bull.getWorkers()).length >= 1 ? true : undefined))
      const theirs = await queue.getWorkers()
      const out = await workers(url, `bullmq:${mq}`, `bull:${b}`)
      const mqRows = out.workers.filter((w) => w.queues.includes(`bullmq:${mq}`))
      expect(mqRows).toHaveLength(theirs.length)
      expect(mqRows[0]).toMatchObject({kind: 'bullmq', name: 'wt-life-mq', host: '127.0.0.1'})
      const bullRows = out.workers.filter((w) => w.queues.includes(`bull:${b}`))
      expect(bullRows).toHaveLength((await bull.getWorkers()).length)
      expect(bullRows[0]).toMatchObject({kind: 'bull'})
      expect(out.notes.join(' ')).toMatch(/plain lists/)
      // the same service feeds wait, metrics and top
      const waited = await runCli(['wait', `bullmq:${mq}`, '--until', 'consumers>=1', '--timeout', '20s', '--url', url], {env: home, input: ''})
      expect(waited.stderr).toBe('')
      expect(waited.code).toBe(0)
      const short = await runCli(['wait', `bullmq:${mq}`, '--until', 'consumers>=2', '--timeout', '2s', '--url', url], {env: home, input: ''})
      expect(short.code).toBe(1)
      expect(short.stderr).toMatch(/consumers 1/)
      const prom = await runCli(['metrics', '--once', '--queue', `bullmq:${mq}`, '--url', url], {env: home, input: ''})
      expect(prom.code).toBe(0)
      expect(prom.stdout).toMatch(new RegExp(`queuectl_queue_workers\\{[^}]*queue="[^"]*${mq}"[^}]*\\} 1`))
      expect(prom.stdout).toMatch(new RegExp(`queuectl_queue_consumers\\{[^}]*queue="[^"]*${mq}"[^}]*\\} 1`))
      const top = await runCli(['top', '--once', '--json', '--queue', `bullmq:${mq}`, '--url', url], {env: home, input: ''})
      expect(top.code).toBe(0)
      const snap = JSON.parse(top.stdout) as {brokers: {queues: {consumers?: number; workers?: WorkerInfo[]}[]}[]}
      expect(snap.brokers[0]!.queues[0]).toMatchObject({consumers: 1, workers: [expect.objectContaining({name: 'wt-life-mq'})]})
    } finally {
      await worker.close()
      await bull.close()
      await queue.obliterate({force: true})
      await queue.close()
      const raw = new Redis(url)
      const keys = await raw.keys(`bull:${b}:*`)
      if (keys.length) await raw.del(...keys)
      raw.disconnect()
    }
  })
})

describe('queue workers on RabbitMQ and NATS', {timeout: 60_000}, () => {
  it('an amqplib consumer with its tag, prefetch and unacked count, as the management API lists it', async () => {
    const amqp = (await import('amqplib')).default
    const q = `wt-life-wk-${process.pid}`
    const conn = await amqp.connect(AMQP_URL, {clientProperties: {connection_name: 'wt-life-consumer'}})
    const ch = await conn.createChannel()
    try {
      await ch.assertQueue(q, {durable: false})
      await ch.prefetch(3)
      await ch.consume(q, () => {}, {consumerTag: `wt-life-tag-${process.pid}`})
      ch.sendToQueue(q, Buffer.from('x'))
      const row = await until('the management API to count the unacked message', async () => {
        const out = await workers(AMQP_URL, q)
        return out.workers[0]?.busy === 1 ? out.workers[0] : undefined
      }, 30_000)
      expect(row).toMatchObject({kind: 'rabbitmq', name: `wt-life-tag-${process.pid}`, queues: [q], concurrency: 3, busy: 1, host: '127.0.0.1'})
      expect(row.version).toMatch(/^amqplib /)
      expect(row.details).toMatchObject({connection: 'wt-life-consumer', ackMode: 'manual', prefetch: 3})
    } finally {
      await ch.deleteQueue(q)
      await conn.close()
    }
  })

  it('a JetStream pull consumer with its waiting pull and the message it holds', async () => {
    const {nc, jsm} = await natsAdmin()
    const {jetstream} = await import('@nats-io/jetstream')
    const stream = `WTLIFE_WK_${process.pid}`
    try {
      await jsm.streams.add({name: stream, subjects: [`wtlife.wk.${process.pid}`]})
      await jsm.consumers.add(stream, {durable_name: 'pullers', ack_policy: 'explicit' as never, max_ack_pending: 7})
      const js = jetstream(nc)
      await js.publish(`wtlife.wk.${process.pid}`, 'x')
      const consumer = await js.consumers.get(stream, 'pullers')
      const held = await consumer.next({expires: 5000})
      expect(held).toBeTruthy()
      const pulls = await consumer.fetch({max_messages: 1, expires: 20_000})
      const pulling = (async () => {
        for await (const m of pulls) m.ack()
      })()
      const row = await until('the waiting pull to show', async () => {
        const out = await workers(NATS_URL, stream)
        return (out.workers[0]?.details as {waitingPulls?: number} | undefined)?.waitingPulls === 1 ? out.workers[0] : undefined
      }, 15_000)
      expect(row).toMatchObject({kind: 'nats', name: 'pullers', queues: [`${stream}/pullers`], busy: 1, concurrency: 7})
      held!.ack()
      pulls.stop()
      await pulling
    } finally {
      await dropStream(jsm, stream)
      await nc.close()
    }
  })

  it('a broker without a registry of consumers says so', async () => {
    const r = await runCli(['workers', '--url', 'memory://', '--json'], {env: home, input: ''})
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as Out).notes[0]).toMatch(/memory:\/\/ lives in one process/)
  })

  it.runIf(hasCelery)('a Celery worker on RabbitMQ, through Celery\'s inspect mailbox, as celery inspect stats shows it', async () => {
    const celeryUrl = AMQP_URL.replace(/\/$/, '') + '//' // kombu spells the default vhost "//"
    const q = `wt-life-celery-${process.pid}`
    const node = `wtlife${process.pid}@amqp`
    const env = {QCTL_BROKER: celeryUrl, C_FORCE_ROOT: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: AMQP_APP_DIR}
    const w = new Worker(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'worker', '-n', node, '-Q', q, '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info'], env, 120)
    try {
      const theirs = await until(`celery inspect to see the worker (log: ${w.tail(300)})`, async () => {
        const out = await runJson<Record<string, {pid: number}>>(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'inspect', 'stats', '-d', node, '--json'], env).catch(() => undefined)
        return out?.[node]
      }, 60_000)
      // the management API lists a new consumer within its stats interval: asked until both show
      const out = await until('the Celery worker and its RabbitMQ consumer to show', async () => {
        const o = await workers(AMQP_URL, q)
        return o.workers.some((x) => x.kind === 'rabbitmq') && o.workers.some((x) => x.kind === 'celery') ? o : undefined
      }, 20_000)
      const celery = out.workers.find((x) => x.kind === 'celery')
      expect(celery).toMatchObject({name: node, host: 'amqp', pid: theirs.pid, busy: 0, concurrency: 1})
      expect(celery!.queues).toContain(`celery:${q}`)
      expect(out.workers.some((x) => x.kind === 'rabbitmq' && x.queues.includes(q))).toBe(true)
    } finally {
      await w.stop()
      await dropQueue(q).catch(() => {})
    }
  })

  it('wait --until consumers>=1 on RabbitMQ holds once an amqplib consumer attaches', async () => {
    const amqp = (await import('amqplib')).default
    const q = `wt-life-wait-${process.pid}`
    const conn = await amqp.connect(AMQP_URL)
    const ch = await conn.createChannel()
    try {
      await ch.assertQueue(q, {durable: false})
      const none = await runCli(['wait', q, '--until', 'consumers>=1', '--timeout', '2s', '--url', AMQP_URL], {env: home, input: ''})
      expect(none.code).toBe(1)
      await ch.consume(q, () => {})
      const held = await runCli(['wait', q, '--until', 'consumers>=1', '--timeout', '20s', '--url', AMQP_URL], {env: home, input: ''})
      expect(held.code).toBe(0)
    } finally {
      await ch.deleteQueue(q)
      await conn.close()
    }
  })
})
