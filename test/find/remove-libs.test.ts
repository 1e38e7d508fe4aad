// `queue job delete`, `purge --where` and `job promote` on Sidekiq and Bull, through the built bin,
// on jobs the real libraries made (Sidekiq::Client.push, DeadSet#kill and RetrySet#schedule via ruby;
// bull's Queue#add and a bull worker that fails a job): exactly that job goes (or runs now), as the
// library's own delete (or add_to_queue/retry) does, neighbours stay.
import Bull from 'bull'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {LIB_DB, RUBY, canRun, libUrl, runJson, uniqueName} from '../adapters/redis-libs/helpers.js'
import {FIND_REDIS, findUrl} from './bullmq-jobs.js'

const home = isolatedHome()
const hasSidekiq = await canRun(RUBY, ['-e', 'require "sidekiq"'])
const SK_URL = libUrl(LIB_DB.sidekiq)

interface SkReport {
  jobs: ({jid: string} & Record<string, unknown>)[]
  scheduled: {jid: string}[]
  dead: {jid: string}[]
}

describe('job delete on Sidekiq (ruby-sidekiq made the jobs)', {timeout: 120_000}, () => {
  const idle = uniqueName('wt-ops2-del')
  const work = uniqueName('wt-ops2-delw')
  const env = {REDIS_URL: SK_URL}
  const cli = (args: string[]) => runCli([...args, '--url', SK_URL], {env: home, timeoutMs: 60_000})
  const report = (q: string) => runJson<SkReport>(RUBY, ['sidekiq_helper.rb', 'report', q], env)
  let raw: Redis
  let ids: Record<string, string>
  let dead: string[]

  beforeAll(async () => {
    raw = new Redis({host: '127.0.0.1', port: 6379, db: LIB_DB.sidekiq})
    if (!hasSidekiq) return
    ids = await runJson<Record<string, string>>(RUBY, ['sidekiq_helper.rb', 'push', idle, work], env)
    dead = [
      (await runJson<{jid: string}>(RUBY, ['sidekiq_helper.rb', 'kill', idle, 'qctl-key-wt-ops2-a', '1'], env)).jid,
      (await runJson<{jid: string}>(RUBY, ['sidekiq_helper.rb', 'kill', idle, 'qctl-key-wt-ops2-b', '2'], env)).jid,
    ]
  }, 60_000)

  afterAll(async () => {
    for (const q of [idle, work]) {
      await raw.del(`queue:${q}`)
      await raw.srem('queues', q)
      for (const set of ['schedule', 'retry', 'dead']) {
        for (const member of await raw.zrange(set, '0', '-1')) if (member.includes(`"queue":"${q}"`)) await raw.zrem(set, member)
      }
    }
    raw.disconnect()
  })

  it('has a real Sidekiq (apt-get install -y ruby-sidekiq)', () => expect(hasSidekiq).toBe(true))

  it('deletes exactly one waiting, one scheduled and one dead job, as Job#delete and SortedEntry#delete do', async () => {
    const Q = `sidekiq:${idle}`
    const w = await cli(['job', 'delete', Q, ids.first!, '--yes', '--json'])
    expect(w.code, w.stderr).toBe(0)
    expect(JSON.parse(w.stdout)).toMatchObject({state: 'waiting', deleted: 1})
    const s = await cli(['job', 'delete', Q, ids.scheduled!, '--yes'])
    expect(s.code, s.stderr).toBe(0)
    const d = await cli(['job', 'delete', Q, dead[0]!, '--yes'])
    expect(d.code, d.stderr).toBe(0)
    expect(d.stdout).toMatch(/deleted the dead job/)
    const after = await report(idle)
    expect(after.jobs.map((j) => j.jid)).toEqual([ids.second])
    expect(after.scheduled).toEqual([])
    expect(after.dead.map((j) => j.jid)).toEqual([dead[1]])
    const missing = await cli(['job', 'delete', Q, ids.first!, '--yes'])
    expect(missing.code).toBe(4)
  })

  it('job promote runs a scheduled job now, as SortedEntry#add_to_queue does', async () => {
    const pushed = await runJson<Record<string, string>>(RUBY, ['sidekiq_helper.rb', 'push', idle, work], env)
    const r = await cli(['job', 'promote', `sidekiq:${idle}`, pushed.scheduled!, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({state: 'delayed', promoted: 1})
    const after = await report(idle)
    expect(after.scheduled).toEqual([])
    // Client#push puts it at the head of the list: Sidekiq::Queue enumerates newest first
    expect(after.jobs[0]).toMatchObject({jid: pushed.scheduled, class: 'QctlSetKey', args: ['never-3', 'c']})
    const notThere = await cli(['job', 'promote', `sidekiq:${idle}`, pushed.first!])
    expect(notThere.code).toBe(4)
  })

  it('job promote runs a retry-set job now, as SortedEntry#retry does (one fewer retry counted)', async () => {
    const {jid} = await runJson<{jid: string}>(RUBY, ['sidekiq_helper.rb', 'retryset', idle], env)
    const r = await cli(['job', 'promote', `sidekiq:${idle}`, jid, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({state: 'retry', promoted: 1})
    const after = await report(idle)
    expect(after.jobs[0]).toMatchObject({jid, retry_count: 0, error_message: 'flaky'})
    expect((await raw.zrange('retry', '0', '-1')).some((m) => m.includes(jid))).toBe(false)
  })

  it('purge --where deletes only the matching waiting jobs (the two pushed with tenant acme)', async () => {
    const before = (await report(idle)).jobs.length
    const r = await cli(['purge', `sidekiq:${idle}`, '--state', 'waiting', '--where', 'body.tenant == "acme"', '--yes', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({matched: 2, removed: 2})
    const after = await report(idle)
    expect(after.jobs.length).toBe(before - 2)
    expect(after.jobs.every((j) => (j as Record<string, unknown>).tenant === undefined)).toBe(true)
  })
})

describe('job delete on Bull (the bull package made the jobs)', {timeout: 120_000}, () => {
  const name = uniqueName('wt-ops2-bull')
  const Q = `bull:${name}`
  const cli = (args: string[]) => runCli([...args, '--url', findUrl], {env: home, timeoutMs: 60_000})
  let queue: Bull.Queue
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    queue = new Bull(name, {redis: FIND_REDIS})
    ids.fail1 = String((await queue.add({tenant: 1, boom: true})).id)
    ids.fail2 = String((await queue.add({tenant: 2, boom: true})).id)
    const worker = new Bull(name, {redis: FIND_REDIS})
    void worker.process(async (job) => {
      if (job.data.boom) throw new Error(`boom ${job.data.tenant}`)
    })
    const end = Date.now() + 30_000
    while ((await queue.getFailedCount()) < 2) {
      if (Date.now() > end) throw new Error('the bull worker did not fail the jobs in 30 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    await worker.close()
    ids.wait1 = String((await queue.add({tenant: 1})).id)
    ids.wait2 = String((await queue.add({tenant: 2})).id)
    ids.later = String((await queue.add({tenant: 1}, {delay: 3_600_000})).id)
  }, 60_000)

  afterAll(async () => {
    await queue?.obliterate({force: true})
    await queue?.close()
  })

  it('deletes exactly that failed, waiting or delayed job with bull’s Job#remove; neighbours stay', async () => {
    for (const id of [ids.fail1!, ids.wait1!, ids.later!]) {
      const r = await cli(['job', 'delete', Q, id, '--yes'])
      expect(r.code, r.stderr).toBe(0)
      expect(await queue.getJob(id)).toBeNull()
    }
    expect(await queue.getFailed()).toHaveLength(1)
    expect((await queue.getWaiting()).map((j) => String(j.id))).toEqual([ids.wait2])
    expect(await queue.getDelayedCount()).toBe(0)
    expect(await (await queue.getJob(ids.fail2!))!.getState()).toBe('failed')
    const wrongState = await cli(['job', 'delete', Q, ids.wait2!, '--state', 'dead', '--yes'])
    expect(wrongState.code).toBe(4)
  })

  it('purge --where deletes the matching waiting job only', async () => {
    ids.fail3 = String((await queue.add({tenant: 3})).id)
    const r = await cli(['purge', Q, '--state', 'waiting', '--where', 'body.tenant == 3', '--yes', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({matched: 1, removed: 1})
    expect(await queue.getJob(ids.fail3!)).toBeNull()
    expect((await queue.getWaiting()).map((j) => String(j.id))).toEqual([ids.wait2])
  })
})
