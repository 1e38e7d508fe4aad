// RQ, with a real RQ 1.13 (Debian python3-rq): jobs RQ enqueued and a real RQ worker ran (failed,
// finished) or left (waiting, scheduled, deferred, started) show with the counts and job metadata
// RQ's own API reports. Pickled calls are shown as opaque bytes with their size, never unpickled:
// a job whose pickle would create a file when unpickled is peeked and the file never appears.
// queuectl does not write pickles, so `queue enqueue rq:…` is refused; failed jobs are requeued as
// FailedJobRegistry.requeue does, and a real worker then runs them.
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {INTEROP_DIR, LIB_DB, PYTHON, REDIS_HOST, Worker, canRun, libUrl, openLib, runJson, uniqueName, until} from './helpers.js'

const DB = LIB_DB.rq
const URL = libUrl(DB)
const env = {QCTL_REDIS_URL: URL, PYTHONPATH: INTEROP_DIR, PYTHONDONTWRITEBYTECODE: '1'}
const hasRq = await canRun(PYTHON, ['-c', 'import rq'])
const home = isolatedHome()
const cli = (args: string[]) => runCli([...args, '--url', URL], {env: home, timeoutMs: 90_000})

interface JobReport {
  status: string
  func: string
  description: string
  origin: string
  enqueued_at: string | null
  exc: string | null
  data_bytes: number
}
interface Report {
  count: number
  job_ids: string[]
  started: number
  finished: number
  failed: number
  deferred: number
  scheduled: number
  canceled: number
  workers: number
  jobs: Record<string, JobReport>
  queues: string[]
}
const helper = <T>(...args: string[]) => runJson<T>(PYTHON, ['rq_helper.py', ...args], env)
const report = (q: string) => helper<Report>('report', q)
const burst = (q: string) => runJson<unknown>(PYTHON, ['-m', 'rq.cli', 'worker', '--burst', '-u', URL, q], env).catch(() => undefined)

describe('redis rq interop (python3-rq)', {timeout: 120_000}, () => {
  let broker: Broker
  let raw: Redis
  const queues: string[] = []
  const workers: Worker[] = []
  const queue = (hint: string) => {
    const q = uniqueName(hint)
    queues.push(q)
    return q
  }
  let q: string
  let ids: Record<string, string>

  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    broker = await openLib(DB)
    if (!hasRq) return
    q = queue('states')
    ids = await helper<Record<string, string>>('setup', q)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    await broker?.close()
    // everything of our queues: their lists, registries, job hashes and results, our marker keys
    for (const name of queues) {
      const jobIds = new Set<string>(await raw.lrange(`rq:queue:${name}`, 0, -1))
      for (const reg of ['wip', 'finished', 'failed', 'deferred', 'scheduled', 'canceled']) for (const id of await raw.zrange(`rq:${reg}:${name}`, '0', '-1')) jobIds.add(id)
      for (const id of jobIds) await raw.del(`rq:job:${id}`, `rq:results:${id}`, `rq:job:${id}:dependents`, `rq:job:${id}:dependencies`, `rq:job::${id}:dependencies`)
      await raw.del(...['queue', 'wip', 'finished', 'failed', 'deferred', 'scheduled', 'canceled', 'clean_registries'].map((r) => `rq:${r}:${name}`))
      await raw.srem('rq:queues', `rq:queue:${name}`)
    }
    for await (const keys of raw.scanStream({match: 'qctl-rq-*', count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
    raw.disconnect()
  }, 120_000)

  it('has a real RQ to talk to (apt-get install -y python3-rq; it runs on /usr/bin/python3)', () => {
    expect(hasRq).toBe(true)
  })

  it('queues and registries: the same counts as RQ’s API (waiting, started, scheduled, failed, finished, deferred)', async () => {
    const r = await report(q)
    const stats = await broker.stats(`rq:${q}`)
    expect(stats.kind).toBe('rq')
    expect(stats.counts).toEqual({waiting: r.count, inflight: r.started, delayed: r.scheduled, dead: r.failed, completed: r.finished})
    expect(stats.counts).toEqual({waiting: 2, inflight: 0, delayed: 1, dead: 2, completed: 1})
    expect(stats.details).toMatchObject({deferred: r.deferred, canceled: r.canceled})
    expect(stats.details!.deferred).toBe(1)
    expect(stats.consumers).toBe(r.workers)
    expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(0)
  })

  it('job metadata as RQ reports it: function, status, timestamps, exception text; the pickled call only by size', async () => {
    const r = await report(q)
    const waiting = await broker.peek(`rq:${q}`, {limit: 10})
    expect(waiting.map((m) => m.id)).toEqual(r.job_ids)
    for (const m of waiting) {
      const theirs = r.jobs[m.id]!
      expect(m.name).toBe(theirs.func)
      expect(m.headers.status).toBe(theirs.status)
      expect(m.body).toMatchObject({description: theirs.description, origin: q, status: 'queued', data: `pickled call, ${theirs.data_bytes} bytes (not unpickled)`})
      expect(m.payload.length).toBe(theirs.data_bytes)
      expect(m.enqueuedAt).toBe(Date.parse(`${theirs.enqueued_at}Z`.replace(/(\.\d{3})\d*Z$/, '$1Z')))
    }
    const failed = await broker.peek(`rq:${q}`, {limit: 10, state: 'dead'})
    expect(failed.map((m) => m.id).sort()).toEqual([ids.failed, ids.failOnce].sort())
    const kaput = failed.find((m) => m.id === ids.failed)!
    expect(kaput).toMatchObject({name: 'qctl_rq_jobs.boom', state: 'dead', lastError: 'ValueError: kaput', attempts: 1})
    expect((kaput.body as {exception: string}).exception).toBe(r.jobs[ids.failed!]!.exc)
    const [finished] = await broker.peek(`rq:${q}`, {limit: 10, state: 'completed'})
    expect(finished).toMatchObject({id: ids.finished, name: 'qctl_rq_jobs.set_key', headers: {status: 'finished'}})
    const [scheduled] = await broker.peek(`rq:${q}`, {limit: 10, state: 'delayed'})
    expect(scheduled!.id).toBe(ids.scheduled)
    expect(scheduled!.availableAt! - Date.now()).toBeGreaterThan(3_500_000)
  })

  it('never unpickles: a job whose pickle would run a command is peeked and nothing runs', async () => {
    const evilQ = queue('evil')
    const path = join(mkdtempSync(join(tmpdir(), 'qctl-rq-')), 'unpickled')
    const {id} = await helper<{id: string}>('evil', evilQ, path)
    const [m] = await broker.peek(`rq:${evilQ}`, {limit: 5})
    expect(m!.id).toBe(id)
    expect(m!.payload.length).toBeGreaterThan(0)
    expect((m!.body as {data: string}).data).toMatch(/^pickled call, \d+ bytes \(not unpickled\)$/)
    const shown = await cli(['inspect', `rq:${evilQ}`, '--peek', '5', '--json', '--raw'])
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout).messages[0].raw.data).toMatch(/^<pickle, \d+ bytes>$/)
    expect(existsSync(path)).toBe(false)
  })

  it('`queue inspect` with no flag lists RQ queues once (no stray lists or streams of RQ keys)', async () => {
    const listed = await cli(['inspect', '--json'])
    expect(listed.code).toBe(0)
    const names = (JSON.parse(listed.stdout) as {queues: {name: string}[]}).queues.map((s) => s.name)
    expect(names).toContain(`rq:${q}`)
    expect(names.filter((n) => n.includes(q))).toEqual([`rq:${q}`])
  })

  it('a running job shows in flight with its worker; a requeued failed job is run again by a real worker', async () => {
    const live = queue('live')
    const release = `qctl-rq-release-${live}`
    const {id} = await helper<{id: string}>('enqueue', live, 'block', release)
    const w = new Worker(PYTHON, ['-m', 'rq.cli', 'worker', '--burst', '-u', URL, live], env, 240)
    workers.push(w)
    const stats = await until(`the job to start (log: ${w.tail(300)})`, async () => {
      const s = await broker.stats(`rq:${live}`)
      return s.counts.inflight === 1 ? s : undefined
    }, 90_000)
    const r = await report(live)
    expect(r.started).toBe(1)
    expect(stats.consumers).toBe(r.workers)
    expect(stats.consumers).toBe(1)
    const [running] = await broker.peek(`rq:${live}`, {limit: 5, state: 'inflight'})
    expect(running).toMatchObject({id, name: 'qctl_rq_jobs.block', headers: {status: 'started'}})
    await raw.set(release, '1')
    await until('the worker to finish', () => (w.exited ? true : undefined), 90_000)

    // requeue the job that fails only once: RQ sees it queued again, and a worker now runs it
    const retried = await cli(['retry', `rq:${q}`, '--id', ids.failOnce!])
    expect(retried.stderr).toBe('')
    expect(retried.code).toBe(0)
    const after = await report(q)
    expect(after.failed).toBe(1)
    expect(after.jobs[ids.failOnce!]!.status).toBe('queued')
    expect(after.job_ids).toContain(ids.failOnce)
    await burst(q)
    expect(await raw.get(`qctl-rq-flag-${q}`)).toBe('ran again')
    expect((await report(q)).jobs[ids.failOnce!]!.status).toBe('finished')
  }, 200_000)

  it('refuses to enqueue (exit 4): RQ jobs are pickles queuectl never writes', async () => {
    const r = await cli(['enqueue', `rq:${q}`, '--name', 'qctl_rq_jobs.set_key', '["k", "v"]'])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/pickled Python calls.*enqueue with RQ itself/)
    expect((await report(q)).count).toBe(0) // the burst worker above emptied it; nothing new came
  }, 120_000)
})
