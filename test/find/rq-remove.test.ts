// `queue job delete` and `purge --where` on RQ jobs RQ itself made (python3-rq: enqueue, enqueue_in,
// depends_on, and a burst worker that failed and finished some): exactly that job goes, as Job.delete
// does (out of its list or registry, hash gone), and RQ's own API sees the rest unchanged.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {INTEROP_DIR, LIB_DB, PYTHON, canRun, libUrl, runJson, uniqueName} from '../adapters/redis-libs/helpers.js'

const URL = libUrl(LIB_DB.rq)
const env = {QCTL_REDIS_URL: URL, PYTHONPATH: INTEROP_DIR, PYTHONDONTWRITEBYTECODE: '1'}
const hasRq = await canRun(PYTHON, ['-c', 'import rq'])
const home = isolatedHome()
const cli = (args: string[]) => runCli([...args, '--url', URL], {env: home, timeoutMs: 60_000})

interface Report {
  job_ids: string[]
  failed: number
  finished: number
  scheduled: number
  deferred: number
  jobs: Record<string, {status: string; func: string}>
}
const helper = <T>(...args: string[]) => runJson<T>(PYTHON, ['rq_helper.py', ...args], env)

describe('job delete on RQ (python3-rq made the jobs)', {timeout: 120_000}, () => {
  const name = uniqueName('wt-ops2-rq')
  const Q = `rq:${name}`
  let raw: Redis
  let ids: Record<string, string>
  const deleted: string[] = []

  beforeAll(async () => {
    raw = new Redis({host: '127.0.0.1', port: 6379, db: LIB_DB.rq})
    if (hasRq) ids = await helper<Record<string, string>>('setup', name)
  }, 60_000)

  afterAll(async () => {
    const jobIds = new Set<string>([...deleted, ...(await raw.lrange(`rq:queue:${name}`, 0, -1))])
    for (const reg of ['wip', 'finished', 'failed', 'deferred', 'scheduled', 'canceled']) for (const id of await raw.zrange(`rq:${reg}:${name}`, '0', '-1')) jobIds.add(id)
    for (const id of jobIds) await raw.del(`rq:job:${id}`, `rq:results:${id}`, `rq:job:${id}:dependents`, `rq:job:${id}:dependencies`, `rq:job::${id}:dependencies`)
    await raw.del(...['queue', 'wip', 'finished', 'failed', 'deferred', 'scheduled', 'canceled', 'clean_registries'].map((r) => `rq:${r}:${name}`))
    await raw.del(`qctl-rq-flag-${name}`, `qctl-rq-done-${name}`)
    await raw.srem('rq:queues', `rq:queue:${name}`)
    raw.disconnect()
  })

  it('has a real RQ (apt-get install -y python3-rq)', () => expect(hasRq).toBe(true))

  it('deletes exactly that waiting, scheduled, failed or finished job; RQ sees the rest', async () => {
    for (const key of ['waiting1', 'scheduled', 'failed', 'finished']) {
      const r = await cli(['job', 'delete', Q, ids[key]!, '--yes'])
      expect(r.code, `${key}: ${r.stderr}`).toBe(0)
      deleted.push(ids[key]!)
      expect(await raw.exists(`rq:job:${ids[key]}`)).toBe(0)
    }
    const rq = await helper<Report>('report', name)
    expect(rq.job_ids).toEqual([ids.waiting2])
    expect(rq).toMatchObject({failed: 1, finished: 0, scheduled: 0, deferred: 1})
    expect(Object.keys(rq.jobs).sort()).toEqual([ids.waiting2, ids.failOnce, ids.deferred].sort())
    const inflight = await cli(['job', 'delete', Q, ids.waiting2!, '--state', 'inflight', '--yes'])
    expect(inflight.code).not.toBe(0)
  })

  it('purge --where deletes only the matching waiting job', async () => {
    const {id} = await helper<{id: string}>('enqueue', name, 'set_key', `qctl-rq-never-${name}`, 'z')
    deleted.push(id)
    const r = await cli(['purge', Q, '--state', 'waiting', '--where', `id == "${id}"`, '--yes', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({matched: 1, removed: 1})
    expect((await helper<Report>('report', name)).job_ids).toEqual([ids.waiting2])
  })
})
