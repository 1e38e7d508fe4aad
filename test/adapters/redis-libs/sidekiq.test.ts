// Sidekiq, both ways, with a real Sidekiq 6.4 (Debian ruby-sidekiq): jobs Sidekiq::Client pushed
// (waiting, scheduled) and jobs a real Sidekiq process failed (retry and dead sets) show with the
// counts and fields Sidekiq's own API reports; `queue retry` puts them back as SortedEntry#retry
// does; jobs queuectl wrote (enqueue, retry from the dead set, move, export | import, import
// --create on a Redis where Sidekiq never ran) are run by a real Sidekiq process with their args.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {PrivateRedis, freePort} from '../../reliability/harness.js'
import {LIB_DB, REDIS_HOST, RUBY, Worker, canRun, libUrl, openLib, runJson, uniqueName, until} from './helpers.js'

const DB = LIB_DB.sidekiq
const URL = libUrl(DB)
const env = {REDIS_URL: URL}
const hasSidekiq = await canRun(RUBY, ['-e', 'require "sidekiq"'])
const home = isolatedHome()
const cli = (args: string[]) => runCli([...args, '--url', URL], {env: home, timeoutMs: 90_000})

type Job = Record<string, unknown> & {jid: string; score?: number}
interface Report {
  size: number
  jobs: Job[]
  scheduled: Job[]
  retry: Job[]
  dead: Job[]
  busy: unknown[]
  processes: number
  processed: number
  failed: number
  queues: string[]
}
const report = (queue: string) => runJson<Report>(RUBY, ['sidekiq_helper.rb', 'report', queue], env)

describe('redis sidekiq interop (ruby-sidekiq)', {timeout: 120_000}, () => {
  let broker: Broker
  let raw: Redis
  const queues: string[] = []
  const workers: Worker[] = []
  const queue = (hint: string) => {
    const q = uniqueName(hint)
    queues.push(q)
    return q
  }
  const sidekiq = (q: string) => {
    const w = new Worker(RUBY, ['-S', 'sidekiq', '-r', './sidekiq_app.rb', '-q', q, '-c', '2', '-t', '5'], env, 240)
    workers.push(w)
    return w
  }
  let idle: string
  let work: string
  let ids: Record<string, string>

  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    broker = await openLib(DB)
    if (!hasSidekiq) return
    idle = queue('idle')
    work = queue('work')
    ids = await runJson<Record<string, string>>(RUBY, ['sidekiq_helper.rb', 'push', idle, work], env)
    // a real Sidekiq fails the two jobs of `work`: one to the retry set, one (retry: 0) to the dead set
    const w = sidekiq(work)
    await until(`Sidekiq to fail both jobs (log: ${w.tail(300)})`, async () => {
      const r = await report(work)
      return r.retry.length === 1 && r.dead.length === 1 ? r : undefined
    }, 90_000)
    await w.stop()
  }, 180_000)

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    await broker?.close()
    for (const q of queues) {
      await raw.del(`queue:${q}`)
      await raw.srem('queues', q)
      for (const set of ['schedule', 'retry', 'dead']) {
        for (const member of await raw.zrange(set, '0', '-1')) if (member.includes(`"queue":"${q}"`)) await raw.zrem(set, member)
      }
    }
    for await (const keys of raw.scanStream({match: 'qctl-key-*', count: 1000})) if ((keys as string[]).length > 0) await raw.del(...(keys as string[]))
    raw.disconnect()
  }, 120_000)

  it('has a real Sidekiq to talk to (apt-get install -y ruby-sidekiq; it runs on /usr/bin/ruby)', () => {
    expect(hasSidekiq).toBe(true)
  })

  it('waiting, scheduled, retry and dead jobs: the same counts and fields as Sidekiq’s API', async () => {
    const [ri, rw] = await Promise.all([report(idle), report(work)])
    const [si, sw] = await Promise.all([broker.stats(`sidekiq:${idle}`), broker.stats(`sidekiq:${work}`)])
    expect(si.counts).toEqual({waiting: ri.size, inflight: 0, delayed: ri.scheduled.length, retry: 0, dead: 0})
    expect(si.counts).toMatchObject({waiting: 2, delayed: 1})
    expect(sw.counts).toEqual({waiting: rw.size, inflight: 0, delayed: 0, retry: rw.retry.length, dead: rw.dead.length})
    expect(sw.counts).toMatchObject({waiting: 0, retry: 1, dead: 1})
    expect(sw.details).toMatchObject({processed: rw.processed, failed: rw.failed})
    expect(si.oldestAgeMs).toBeGreaterThanOrEqual(0)

    const waiting = await broker.peek(`sidekiq:${idle}`, {limit: 10})
    // oldest first, as Sidekiq will run them
    expect(waiting.map((m) => m.id)).toEqual([ids.first, ids.second])
    expect(waiting.map((m) => m.id).sort()).toEqual(ri.jobs.map((j) => j.jid).sort())
    expect(waiting[0]).toMatchObject({name: 'QctlSetKey', state: 'waiting', attempts: 0, body: {class: 'QctlSetKey', args: ['never-1', 'a']}})

    const [scheduled] = await broker.peek(`sidekiq:${idle}`, {limit: 10, state: 'delayed'})
    expect(scheduled!.id).toBe(ids.scheduled)
    expect(scheduled!.availableAt).toBe(Math.round(ri.scheduled[0]!.score! * 1000))

    const [retry] = await broker.peek(`sidekiq:${work}`, {limit: 10, state: 'retry'})
    const theirs = rw.retry[0]!
    expect(retry).toMatchObject({id: ids.retried, name: 'QctlFail', state: 'retry', attempts: 1, lastError: 'ArgumentError: boom'})
    expect(retry!.body).toMatchObject({error_class: theirs.error_class, error_message: theirs.error_message, retry_count: theirs.retry_count})
    expect(retry!.availableAt).toBe(Math.round(theirs.score! * 1000))
    const [dead] = await broker.peek(`sidekiq:${work}`, {limit: 10, state: 'dead'})
    expect(dead).toMatchObject({id: ids.dead, state: 'dead', lastError: 'ArgumentError: gone'})
  })

  it('a job with fields queuectl does not know keeps them all, shown as they are', async () => {
    const [, second] = await broker.peek(`sidekiq:${idle}`, {limit: 10})
    expect(second!.id).toBe(ids.second)
    expect(second!.body).toMatchObject({tenant: 'acme', tags: ['x', 'y'], custom_ctx: {trace: 't-1'}})
    expect(second!.undecodable).toBeUndefined()
    const shown = await cli(['inspect', `sidekiq:${idle}`, '--peek', '5', '--json'])
    expect(shown.code).toBe(0)
    const out = JSON.parse(shown.stdout) as {queue: {kind: string}; messages: {id: string; body: Record<string, unknown>}[]}
    expect(out.queue.kind).toBe('sidekiq')
    expect(out.messages.find((m) => m.id === ids.second)!.body).toMatchObject({tenant: 'acme', custom_ctx: {trace: 't-1'}})
    // a stored item that is not a job at all is listed as undecodable, and the rest still shows
    const broken = queue('broken')
    await raw.sadd('queues', broken)
    await raw.lpush(`queue:${broken}`, '{"class":"QctlSetKey","args":["qctl-key-x","1"],"jid":"abcabcabcabcabcabcabcabc"}', '{not json')
    const mixed = await broker.peek(`sidekiq:${broken}`, {limit: 5})
    expect(mixed.map((m) => m.undecodable === undefined)).toEqual([true, false])
    expect(mixed[1]!.undecodable).toMatch(/not JSON/)
  })

  it('`queue inspect` with no flag lists the Sidekiq queues', async () => {
    const listed = await cli(['inspect', '--json'])
    expect(listed.code).toBe(0)
    const names = (JSON.parse(listed.stdout) as {queues: {name: string; kind: string}[]}).queues.map((q) => q.name)
    expect(names).toEqual(expect.arrayContaining([`sidekiq:${idle}`, `sidekiq:${work}`]))
    expect(names.some((n) => n.startsWith('list:queue:'))).toBe(false) // the lists are claimed, not listed twice
  })

  it('retry from the retry and the dead set follows Sidekiq (SortedEntry#retry): back on the queue, counted once less', async () => {
    const byCli = await cli(['retry', `sidekiq:${work}`, '--state', 'retry', '--id', ids.retried!])
    expect(byCli.stderr).toBe('')
    expect(byCli.code).toBe(0)
    let r = await report(work)
    expect(r.retry).toHaveLength(0)
    expect(r.size).toBe(1)
    expect(r.jobs[0]).toMatchObject({jid: ids.retried, retry_count: -1, error_message: 'boom', class: 'QctlFail', args: ['boom']})
    expect(typeof r.jobs[0]!.enqueued_at).toBe('number')

    expect(await broker.retry(`sidekiq:${work}`, {state: 'dead'})).toBe(1)
    r = await report(work)
    expect(r.dead).toHaveLength(0)
    expect(r.jobs.map((j) => j.jid).sort()).toEqual([ids.retried, ids.dead].sort())
    expect((await broker.stats(`sidekiq:${work}`)).counts).toMatchObject({waiting: 2, retry: 0, dead: 0})
  })

  it('queue enqueue sidekiq:NAME: a real Sidekiq runs the job; a running job shows in flight on a live process', async () => {
    const q = queue('run')
    const key = `qctl-key-${q}`
    const release = `qctl-key-release-${q}`
    const sent = await cli(['enqueue', `sidekiq:${q}`, '--name', 'QctlSetKey', JSON.stringify([key, 'ran by sidekiq'])])
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    const jid = sent.stdout.trim()
    expect(jid).toMatch(/^[0-9a-f]{24}$/)
    const before = await report(q)
    expect(before.queues).toContain(q)
    expect(before.jobs[0]).toMatchObject({jid, class: 'QctlSetKey', args: [key, 'ran by sidekiq'], queue: q, retry: true})

    const blocked = await broker.enqueue(`sidekiq:${q}`, [{name: 'QctlBlock', payload: JSON.stringify([release])}])
    const w = sidekiq(q)
    await until(`Sidekiq to run the job (log: ${w.tail(300)})`, async () => ((await raw.get(key)) === 'ran by sidekiq' ? true : undefined), 90_000)

    // Sidekiq writes its busy set with each heartbeat (every few seconds), so the finished QctlSetKey
    // can still be listed as running for one beat: wait for the beat that shows the blocking job.
    const stats = await until('the blocking job in flight', async () => {
      const s = await broker.stats(`sidekiq:${q}`)
      if (s.counts.inflight !== 1 || s.consumers !== 1) return undefined
      const [running] = await broker.peek(`sidekiq:${q}`, {limit: 5, state: 'inflight'})
      return running?.id === blocked[0] ? s : undefined
    })
    const r = await report(q)
    expect(r.busy).toHaveLength(1)
    expect(r.processes).toBe(stats.consumers)
    const [running] = await broker.peek(`sidekiq:${q}`, {limit: 5, state: 'inflight'})
    expect(running).toMatchObject({id: blocked[0], name: 'QctlBlock', state: 'inflight'})
    await raw.set(release, '1')
    await until('the blocking job to finish', async () => ((await broker.stats(`sidekiq:${q}`)).counts.inflight === 0 ? true : undefined))
    await raw.del(release)
  }, 180_000)

  it('export | import keeps the jobs in Sidekiq’s own format: class, args, jid, retry and every other field', async () => {
    const copy = queue('copy')
    const exported = await cli(['export', `sidekiq:${idle}`])
    expect(exported.code).toBe(0)
    const imported = await runCli(['import', `sidekiq:${copy}`, '--create', '--url', URL], {env: home, input: exported.stdout, timeoutMs: 90_000})
    expect(imported.stderr).not.toMatch(/arguments must be/)
    expect(imported.code).toBe(0)
    const [source, dest] = [await report(idle), await report(copy)]
    expect(dest.jobs).toHaveLength(source.jobs.length)
    const strip = (j: Job) => ({...j, queue: undefined, enqueued_at: undefined})
    expect(dest.jobs.map(strip)).toEqual(source.jobs.map(strip))
    expect(dest.jobs.every((j) => j.queue === copy)).toBe(true)
  }, 120_000)

  it('a real Sidekiq runs with exactly their args the jobs of retry --state dead, move and export | import', async () => {
    const [dead, moved, copied, src, exp] = [queue('dead'), queue('moved'), queue('copied'), queue('src'), queue('exp')]
    const value = (q: string) => `ran ${q} ✓ "quoted"`
    const {jid} = await runJson<{jid: string}>(RUBY, ['sidekiq_helper.rb', 'kill', dead, `qctl-key-${dead}`, value(dead)], env)
    const retried = await cli(['retry', `sidekiq:${dead}`, '--state', 'dead', '--yes'])
    expect(retried.code).toBe(0)
    expect((await report(dead)).jobs[0]).toMatchObject({jid, retry_count: 1, args: [`qctl-key-${dead}`, value(dead)]})

    await broker.enqueue(`list:${src}`, [{name: 'QctlSetKey', payload: JSON.stringify([`qctl-key-${moved}`, value(moved)])}])
    const move = await cli(['move', `list:${src}`, `sidekiq:${moved}`, '--create', '--yes', '--idle', '500ms'])
    expect(move.code).toBe(0)

    await broker.enqueue(`sidekiq:${exp}`, [{name: 'QctlSetKey', payload: JSON.stringify([`qctl-key-${copied}`, value(copied)]), headers: {tenant: 'acme'}}])
    const exported = await cli(['export', `sidekiq:${exp}`])
    const imported = await runCli(['import', `sidekiq:${copied}`, '--create', '--url', URL], {env: home, input: exported.stdout, timeoutMs: 90_000})
    expect(imported.code).toBe(0)
    expect((await report(copied)).jobs[0]).toMatchObject({class: 'QctlSetKey', retry: true, tenant: 'acme', args: [`qctl-key-${copied}`, value(copied)]})

    const w = new Worker(RUBY, ['-S', 'sidekiq', '-r', './sidekiq_app.rb', '-q', dead, '-q', moved, '-q', copied, '-c', '2', '-t', '5'], env, 240)
    workers.push(w)
    for (const q of [dead, moved, copied]) {
      await until(`Sidekiq to run the job of ${q} (log: ${w.tail(300)})`, async () => ((await raw.get(`qctl-key-${q}`)) === value(q) ? true : undefined), 90_000)
    }
    await w.stop()
    raw.del(`list:${src}`, src).catch(() => {})
  }, 180_000)

  it('import --create sidekiq:NEW on a Redis where Sidekiq never ran: created, imported, run by a real Sidekiq', async () => {
    const server = new PrivateRedis(await freePort())
    await server.start()
    try {
      const fresh = server.url
      const line = JSON.stringify({name: 'QctlSetKey', headers: {}, payload: JSON.stringify(['qctl-key-fresh', 'fresh ✓'])})
      const empty = await runCli(['import', 'sidekiq:empty', '--create', '--url', fresh], {env: home, input: '', timeoutMs: 60_000})
      expect(empty.stderr).toBe('')
      expect(empty.code).toBe(0)
      const r = await runCli(['import', 'sidekiq:fresh', '--create', '--url', fresh], {env: home, input: `${line}\n`, timeoutMs: 60_000})
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const inspected = await runCli(['inspect', 'sidekiq:empty', '--url', fresh, '--json'], {env: home, timeoutMs: 60_000})
      expect(inspected.code).toBe(0)
      const w = new Worker(RUBY, ['-S', 'sidekiq', '-r', './sidekiq_app.rb', '-q', 'fresh', '-c', '1', '-t', '5'], {REDIS_URL: fresh}, 240)
      workers.push(w)
      await until(`Sidekiq to run the imported job (log: ${w.tail(300)})`, async () => ((await server.cli('GET', 'qctl-key-fresh')) === 'fresh ✓' ? true : undefined), 90_000)
      await w.stop()
    } finally {
      await server.stop()
    }
  }, 180_000)

  it('refuses arguments Sidekiq could not run (exit 2) before anything is sent', async () => {
    const q = queue('bad')
    for (const payload of ['{"a": 1}', 'not json', '"just a string"']) {
      const r = await cli(['enqueue', `sidekiq:${q}`, '--name', 'QctlSetKey', payload])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/Sidekiq arguments must be (a JSON array|JSON)/)
    }
    const noClass = await cli(['enqueue', `sidekiq:${q}`, '[1]'])
    expect(noClass.code).toBe(2)
    expect(noClass.stderr).toMatch(/worker class/)
    expect(await raw.sismember('queues', q)).toBe(0)
    expect(await raw.exists(`queue:${q}`)).toBe(0)
  }, 120_000)
})
